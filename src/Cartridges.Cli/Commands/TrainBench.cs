// `cartridges bench train`: self-study synthesis throughput with the chunk's KV shared by every conversation
// of a batch versus recomputed per conversation, training tokens/s per optimizer step, and peak memory.
using System.CommandLine;
using System.Diagnostics;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Distillation;
using Cartridges.Training.Synthesis;

namespace Cartridges.Cli.Commands;

/// <summary>The `bench train` command.</summary>
internal static class TrainBench
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory or Hugging Face id", Required = true };
        var corpus = new Option<string>("--corpus") { Description = "Corpus file (UTF-8)", Required = true };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };
        var conversations = new Option<int>("--conversations") { Description = "Conversations per synthesis batch (one chunk)", DefaultValueFactory = _ => 16 };
        var chunk = new Option<int>("--chunk-tokens") { DefaultValueFactory = _ => 1024 };
        var question = new Option<int>("--max-question-tokens") { DefaultValueFactory = _ => 24 };
        var answer = new Option<int>("--max-answer-tokens") { DefaultValueFactory = _ => 48 };
        var tokens = new Option<int>("--tokens") { Description = "Cartridge size p", DefaultValueFactory = _ => 256 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 5 };
        var memorySizes = new Option<string>("--memory-tokens") { Description = "Cartridge sizes p for the memory-per-token table (comma-separated; empty skips it)", DefaultValueFactory = _ => "256,1024" };
        var cmd = new Command("train", "Synthesis tok/s with vs without prefix sharing, training tok/s per step, peak memory per training token")
        {
            model, corpus, device, conversations, chunk, question, answer, tokens, steps, memorySizes,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            var text = CorpusText.Read(pr.GetValue(corpus)!);
            var tok = HfTokenizer.Load(dir);
            using var engine = await GenerationEngine.LoadAsync(dir, device: pr.GetValue(device));
            var c = engine.Model.Config;
            Console.WriteLine($"model {c.Architectures[0]} d{c.HiddenSize} x{c.NumHiddenLayers}, {engine.Model.ParameterCount / 1e6:F1}M params, {engine.Model.DType} on {engine.Model.Device.type}");
            var options = new SelfStudyOptions
            {
                ChunkMinTokens = pr.GetValue(chunk),
                ChunkMaxTokens = pr.GetValue(chunk),
                ConversationsPerChunk = pr.GetValue(conversations),
                MaxQuestionTokens = pr.GetValue(question),
                MaxAnswerTokens = pr.GetValue(answer),
            };
            var rates = new Dictionary<bool, double>();
            Cartridges.Training.Synthesis.SelfStudyBatch? batch = null;
            foreach (var share in new[] { true, false })
            {
                var synthesizer = new SelfStudySynthesizer(engine, tok, text, options with { ShareChunkPrefix = share });
                var sw = Stopwatch.StartNew();
                var b = await synthesizer.SynthesizeBatchAsync(pr.GetValue(conversations), seed: 1, ct);
                var seconds = sw.Elapsed.TotalSeconds;
                rates[share] = b.GeneratedTokens / seconds;
                batch ??= b;
                Console.WriteLine($"synthesis {(share ? "shared chunk KV " : "chunk per convo ")} {b.Conversations.Count} conversations on a {b.ChunkPrefixTokens.Count}-token chunk in {seconds:F1} s = " +
                                  $"{rates[share]:F0} generated tok/s, {b.Conversations.Count / seconds:F2} conversations/s");
            }
            Console.WriteLine($"prefix sharing speed-up {rates[true] / rates[false]:F2}x");

            var examples = batch!.Conversations.Select(x => x.Example).ToArray();
            using var cartridge = await engine.RunAsync(m => CartridgeInitializer.FromText(m, tok, text, pr.GetValue(tokens)));
            using var trainer = new Trainer(engine.Model, cartridge, new DistillationObjective(examples),
                new TrainerOptions { Steps = pr.GetValue(steps), GlobalBatchSize = Math.Min(8, examples.Length), MicroBatchSize = 4 });
            var perStep = new List<double>();
            await trainer.RunAsync(engine, new Progress<TrainingProgress>(p => perStep.Add(p.TokensPerSecond)), ct);
            var steady = perStep.Skip(1).DefaultIfEmpty(perStep.FirstOrDefault()).Average();
            Console.WriteLine($"training  p={pr.GetValue(tokens)}, global batch {Math.Min(8, examples.Length)}: {steady:F0} tok/s per step (mean after the first of {perStep.Count})");
            Console.WriteLine($"peak resident {ProcessMemory.PeakSinceReset() / 1048576.0:F0} MiB");

            var sizes = (pr.GetValue(memorySizes) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
            if (sizes.Length > 0) await MemoryPerTokenAsync(engine, tok, text, examples, sizes, ct);
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// Peak memory of one optimizer step above what was resident before it, per training token, for each cartridge size
    /// and micro-batch size: what a micro-batch costs, so the micro-batch of a bigger model can be sized from it.
    /// </summary>
    static async Task MemoryPerTokenAsync(GenerationEngine engine, HfTokenizer tok, string text, Cartridges.Training.Data.TrainingExample[] examples, int[] sizes,
        CancellationToken ct)
    {
        Console.WriteLine();
        Console.WriteLine("| p | micro-batch | training tokens | peak above resident | per training token |");
        Console.WriteLine("|---|---|---|---|---|");
        var slopes = new List<string>();
        foreach (var p in sizes)
        {
            var points = new List<(int Tokens, long Peak)>();
            foreach (var micro in new[] { 1, 2, 4 }.Where(m => m <= examples.Length))
            {
                var batch = examples.Take(micro).ToArray();
                using var cartridge = await engine.RunAsync(m => CartridgeInitializer.FromText(m, tok, text, p));
                using var trainer = new Trainer(engine.Model, cartridge, new DistillationObjective(batch),
                    new TrainerOptions { Steps = 1, GlobalBatchSize = micro, MicroBatchSize = micro });
                GC.Collect();
                var before = ProcessMemory.ResetPeak();
                await trainer.RunAsync(engine, null, ct);
                var peak = Math.Max(0, ProcessMemory.PeakSinceReset() - before);
                var trainingTokens = batch.Sum(e => e.Tokens.Length);
                Console.WriteLine($"| {p} | {micro} | {trainingTokens} | {peak / 1048576.0:F1} MiB | {peak / (double)trainingTokens / 1024:F1} KiB |");
                points.Add((trainingTokens, peak));
            }
            // Growth from the smallest to the largest micro-batch per added token: the cost of a micro-batch without the
            // step's fixed part (the cartridge's gradients and optimizer state).
            if (points.Count > 1 && points[^1].Tokens > points[0].Tokens)
                slopes.Add($"p={p}: {(points[^1].Peak - points[0].Peak) / (double)(points[^1].Tokens - points[0].Tokens) / 1024:F0} KiB per added training token");
        }
        foreach (var slope in slopes) Console.WriteLine(slope);
    }
}
