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
        var cmd = new Command("train", "Synthesis tok/s with vs without prefix sharing, training tok/s per step, peak memory")
        {
            model, corpus, device, conversations, chunk, question, answer, tokens, steps,
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
            return 0;
        }));
        return cmd;
    }
}
