// The same measurements as `bench model`, made by llama.cpp on the same weights (written as an F32 GGUF), in the
// same process and with the same thread count, so that the two engines are compared side by side in one run.
using System.Diagnostics;
using Cartridges.Model.Weights;
using LLama.Native;

namespace Cartridges.Cli.LlamaCpp;

/// <summary>llama.cpp's prefill and decode speed on a model directory's weights.</summary>
internal static class LlamaCppBench
{
    /// <summary>Seconds of one prefill (best of 3) and, per batch size, milliseconds per decode step.</summary>
    public sealed record Figures(double PrefillSeconds, IReadOnlyDictionary<int, double> MsPerStep);

    /// <summary>Writes the GGUF next to a temp path, runs the measurements, deletes the file.</summary>
    public static Figures Run(string modelDir, int[] prefillTokens, IReadOnlyList<int> batches, int context, int decode, int threads, int vocab, Random rng)
    {
        var gguf = Path.Combine(Path.GetTempPath(), $"cartridges-bench-{Guid.NewGuid():N}.gguf");
        try
        {
            GgufConverter.Convert(modelDir, gguf);
            lock (LlamaCppNative.Gate)
            {
                LlamaCppNative.Begin();
                try
                {
                    using var model = LlamaCppNative.OpenModel(gguf);
                    var prefill = TimePrefill(model, prefillTokens, threads);
                    var steps = batches.ToDictionary(b => b, b => TimeDecode(model, b, context, decode, threads, vocab, rng));
                    return new Figures(prefill, steps);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new InvalidOperationException($"llama.cpp failed: {e.Message}\n--- llama.cpp log ---\n{LlamaCppNative.LogTail(3000)}", e);
                }
            }
        }
        finally
        {
            File.Delete(gguf);
        }
    }

    static void Decode(SafeLLamaContextHandle ctx, LLamaBatch batch)
    {
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}.");
    }

    /// <summary>One pass over the tokens, logits of the last position only; best of 3 after a warm-up, as ours.</summary>
    static double TimePrefill(SafeLlamaModelHandle model, int[] tokens, int threads)
    {
        using var ctx = LlamaCppNative.OpenContext(model, tokens.Length, tokens.Length, sequences: 1, threads);
        var best = double.MaxValue;
        for (var run = 0; run < 4; run++)
        {
            ctx.MemoryClear(true);
            var batch = new LLamaBatch();
            for (var i = 0; i < tokens.Length; i++) batch.Add((LLamaToken)tokens[i], (LLamaPos)i, LLamaSeqId.Zero, logits: i == tokens.Length - 1);
            var sw = Stopwatch.StartNew();
            Decode(ctx, batch);
            _ = ctx.GetLogitsIth(tokens.Length - 1)[0];
            if (run > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>
    /// B sequences of `context` random prompt tokens, then `decode` − 1 steps of one token each for all B at once,
    /// each step choosing every row's arg-max as our greedy engine does; milliseconds per step.
    /// </summary>
    static double TimeDecode(SafeLlamaModelHandle model, int b, int context, int decode, int threads, int vocab, Random rng)
    {
        using var ctx = LlamaCppNative.OpenContext(model, b * (context + decode), Math.Max(context, b), sequences: b, threads);
        var last = new int[b];
        for (var s = 0; s < b; s++)
        {
            var prompt = new LLamaBatch();
            for (var i = 0; i < context; i++) prompt.Add((LLamaToken)rng.Next(vocab), (LLamaPos)i, (LLamaSeqId)s, logits: i == context - 1);
            Decode(ctx, prompt);
            last[s] = ArgMax(ctx.GetLogitsIth(context - 1));
        }
        var sw = Stopwatch.StartNew();
        for (var step = 0; step < decode - 1; step++)
        {
            var batch = new LLamaBatch();
            for (var s = 0; s < b; s++) batch.Add((LLamaToken)last[s], (LLamaPos)(context + step), (LLamaSeqId)s, logits: true);
            Decode(ctx, batch);
            for (var s = 0; s < b; s++) last[s] = ArgMax(ctx.GetLogitsIth(s));
        }
        return sw.Elapsed.TotalMilliseconds / (decode - 1);
    }

    static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
