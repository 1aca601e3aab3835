// `bench model`'s long-document part: a document prefilled the way the engine and cartridge initialisation do it (in
// chunks through a KV cache) at several lengths, with the process's peak memory growth per token, beside one whole pass
// at the lengths where its quadratic score matrix still fits, so linear and quadratic growth are seen side by side.
using System.Diagnostics;
using System.Numerics;
using Cartridges.Model.Engine;
using Cartridges.Model.Transformer;

namespace Cartridges.Cli.Commands;

/// <summary>Prefill time and peak memory per token for long documents.</summary>
internal static class LongPrefillBench
{
    /// <summary>A whole pass is only tried while its fp32 scores [heads, T, T] stay under this many bytes.</summary>
    const long WholePassScoreBudget = 2L << 30;

    public static async Task RunAsync(GenerationEngine engine, IReadOnlyList<int> lengths, int chunk, Random rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        var c = engine.Model.Config;
        var kvPerToken = engine.Model.KvBytesPerToken;
        foreach (var n in lengths)
        {
            if (n >= c.MaxPositionEmbeddings)
            {
                Console.WriteLine($"prefill {n,6}     skipped: the model's context is {c.MaxPositionEmbeddings} " +
                                  $"(`cartridges model init-random --context {BitOperations.RoundUpToPowerOf2((uint)n + 1)}` makes a preset that holds it)");
                continue;
            }
            var tokens = Enumerable.Range(0, n).Select(_ => rng.Next(c.VocabSize)).ToArray();
            var (seconds, peak) = await engine.RunAsync(m => Measure(m, tokens, chunk));
            Console.WriteLine($"prefill {n,6}     chunks of {chunk}: {seconds:F2} s = {n / seconds:F0} tok/s, peak +{peak / 1048576.0:F0} MiB = " +
                              $"{peak / (double)n / 1024:F1} KiB/token (KV itself {kvPerToken / 1024.0:F1} KiB/token)");
            if ((long)c.NumAttentionHeads * n * n * 4 <= WholePassScoreBudget)
            {
                var (wholeSeconds, wholePeak) = await engine.RunAsync(m => Measure(m, tokens, n));
                Console.WriteLine($"prefill {n,6}     one pass:      {wholeSeconds:F2} s = {n / wholeSeconds:F0} tok/s, peak +{wholePeak / 1048576.0:F0} MiB = " +
                                  $"{wholePeak / (double)n / 1024:F1} KiB/token");
            }
        }
    }

    static (double Seconds, long PeakBytes) Measure(TransformerModel m, int[] tokens, int chunk)
    {
        var before = ProcessMemory.ResetPeak();
        var sw = Stopwatch.StartNew();
        using (PrefixBuilder.FromTokens(m, tokens, chunkTokens: chunk)) { }
        return (sw.Elapsed.TotalSeconds, Math.Max(0, ProcessMemory.PeakSinceReset() - before));
    }
}
