// `cartridges bench …`: benchmarks that print figures (never timed tests; machines here are shared and noisy).
using System.CommandLine;
using System.Diagnostics;
using Cartridges.Cli.LlamaCpp;
using Cartridges.Model.Engine;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Cli.Commands;

/// <summary>The `bench` command group.</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var cmd = new Command("bench", "Benchmarks that print figures");
        cmd.Subcommands.Add(ModelBench());
        cmd.Subcommands.Add(TrainBench.Create());
        cmd.Subcommands.Add(ServeBench.Create());
        cmd.Subcommands.Add(QualityBenchCommand.Create());
        cmd.Subcommands.Add(GpuBench.Create());
        return cmd;
    }

    static Command ModelBench()
    {
        var model = new Option<string>("--model") { Description = "Model directory or Hugging Face id", Required = true };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };
        var prefill = new Option<int>("--prefill-tokens") { DefaultValueFactory = _ => 1024 };
        var context = new Option<int>("--context") { Description = "Prompt tokens per sequence before decoding", DefaultValueFactory = _ => 128 };
        var decode = new Option<int>("--decode-tokens") { DefaultValueFactory = _ => 32 };
        var batches = new Option<string>("--batches") { DefaultValueFactory = _ => "1,8,32" };
        var longPrefill = new Option<string>("--long-prefill")
        {
            Description = "Document lengths prefilled in chunks through a KV cache, with peak memory per token (lengths beyond the model's context are skipped)",
            DefaultValueFactory = _ => "2000,8000,32000",
        };
        var chunk = new Option<int>("--prefill-chunk") { Description = "Tokens per prefill pass", DefaultValueFactory = _ => PrefixBuilder.DefaultChunkTokens };
        var compare = new Option<bool>("--compare-llamacpp")
        {
            Description = "Also run llama.cpp (CPU, same thread count) on the same weights written as an F32 GGUF, and print the ratios",
        };
        var cmd = new Command("model", "Prefill tok/s, decode ms/token at batch 1, decode tok/s at larger batches, long-document prefill memory, peak memory")
        {
            model, device, prefill, context, decode, batches, longPrefill, chunk, compare,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            using var engine = await GenerationEngine.LoadAsync(dir, new EngineOptions { MaxBatch = 256 }, pr.GetValue(device));
            var c = engine.Model.Config;
            Console.WriteLine($"model {c.Architectures[0]} d{c.HiddenSize} x{c.NumHiddenLayers} heads {c.NumAttentionHeads}/{c.NumKeyValueHeads} " +
                              $"vocab {c.VocabSize}, {engine.Model.ParameterCount / 1e6:F1}M params, {engine.Model.DType} on {engine.Model.Device.type}, " +
                              $"{TorchSharp.torch.get_num_threads()} threads");

            var n = pr.GetValue(prefill);
            var rng = new Random(1);
            var tokens = Enumerable.Range(0, n).Select(_ => rng.Next(c.VocabSize)).ToArray();
            var prefillSeconds = await engine.RunAsync(m => TimePrefill(m, tokens));
            Console.WriteLine($"prefill          {n} tokens in {prefillSeconds * 1000:F0} ms = {n / prefillSeconds:F0} tok/s (best of 3)");

            var perBatch = new Dictionary<int, double>();
            var msPerBatch = new Dictionary<int, double>();
            foreach (var b in pr.GetValue(batches)!.Split(',').Select(int.Parse))
            {
                // Untimed rounds first, for two seconds at least: the JIT compiles the decode step's hot loops (ours and
                // TensorPrimitives' generic kernels) optimised only once they have run for a while (measured: the first
                // half second of batch-1 decoding ran at half speed), and a served engine runs warm.
                var warming = System.Diagnostics.Stopwatch.StartNew();
                do await TimeDecode(engine, b, pr.GetValue(context), pr.GetValue(decode), rng);
                while (warming.Elapsed < TimeSpan.FromSeconds(2));
                var (msPerStep, tokPerSec) = await TimeDecode(engine, b, pr.GetValue(context), pr.GetValue(decode), rng);
                perBatch[b] = tokPerSec;
                msPerBatch[b] = msPerStep;
                Console.WriteLine($"decode batch {b,-3} {msPerStep:F1} ms/step = {tokPerSec:F1} tok/s" +
                                  (b == 1 ? $" ({msPerStep:F1} ms/token)" : perBatch.TryGetValue(1, out var one) ? $" ({tokPerSec / one:F2}x batch 1)" : ""));
            }
            Console.WriteLine($"peak resident    {ProcessMemory.PeakSinceReset() / 1048576.0:F0} MiB process; engine holds {engine.Stats.ResidentBytes / 1048576.0:F0} MiB " +
                              $"(weights {engine.Stats.WeightBytes / 1048576.0:F0}, KV cache {engine.Stats.CacheBytes / 1048576.0:F0})");
            var lengths = string.IsNullOrWhiteSpace(pr.GetValue(longPrefill)) ? [] : pr.GetValue(longPrefill)!.Split(',').Select(int.Parse).ToArray();
            await LongPrefillBench.RunAsync(engine, lengths, pr.GetValue(chunk), rng);
            if (pr.GetValue(compare))
            {
                if (engine.Model.Device.type != TorchSharp.DeviceType.CPU) throw new ArgumentException("--compare-llamacpp runs llama.cpp on the CPU; run this model on the CPU too (--device cpu).");
                var theirs = LlamaCppBench.Run(dir, tokens, [.. msPerBatch.Keys], pr.GetValue(context), pr.GetValue(decode),
                    TorchSharp.torch.get_num_threads(), c.VocabSize, new Random(1));
                LlamaCppComparison.Print(n, prefillSeconds, msPerBatch, theirs);
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>Seconds for one forward pass over the tokens with logits of the last position only (best of 3).</summary>
    internal static double TimePrefill(TransformerModel m, int[] tokens)
    {
        var best = double.MaxValue;
        for (var i = 0; i < 4; i++)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var sw = Stopwatch.StartNew();
            var h = m.Forward(new ForwardBatch { Tokens = tensor(tokens.Select(t => (long)t).ToArray(), device: m.Device).view(1, -1) });
            m.Logits(h.narrow(1, tokens.Length - 1, 1)).cpu();
            if (i > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds); // first run warms up
        }
        return best;
    }

    /// <summary>B greedy sequences decoding together through the engine; time between all first tokens and the end.</summary>
    internal static async Task<(double MsPerStep, double TokensPerSecond)> TimeDecode(GenerationEngine engine, int batch, int context, int decode, Random rng)
    {
        var vocab = engine.Model.Config.VocabSize;
        var handles = Enumerable.Range(0, batch).Select(_ => engine.Submit(new GenerationRequest
        {
            Prompt = Enumerable.Range(0, context).Select(_ => rng.Next(vocab)).ToArray(),
            Sampling = SamplingParams.Greedy(decode),
        })).ToList();
        var results = await Task.WhenAll(handles.Select(h => h.Completion));
        // All sequences were submitted together: decoding spans from the last first token to the last finish.
        var start = results.Max(r => r.TimeToFirstToken);
        var end = results.Max(r => r.Elapsed);
        var steps = decode - 1;
        var seconds = (end - start).TotalSeconds;
        return (seconds * 1000 / steps, batch * steps / seconds);
    }
}
