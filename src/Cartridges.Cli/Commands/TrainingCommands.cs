// `cartridges train | synthesize | distill | eval`: the method from the command line.
using System.CommandLine;
using System.Text.Json;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using Cartridges.Training.Evaluation;
using Cartridges.Training.Pipeline;
using Cartridges.Training.Synthesis;

namespace Cartridges.Cli.Commands;

/// <summary>Training commands.</summary>
internal static class TrainingCommands
{
    sealed class Options
    {
        public Option<string> Model { get; } = new("--model") { Description = "Model directory or Hugging Face id", Required = true };
        public Option<string> Device { get; } = new("--device") { DefaultValueFactory = _ => "auto" };
        public Option<string[]> Corpus { get; } = new("--corpus") { Description = "Corpus file(s), UTF-8, concatenated in order", AllowMultipleArgumentsPerToken = true };
        public Option<int> Tokens { get; } = new("--tokens") { Description = "Cartridge size p in tokens", DefaultValueFactory = _ => 512 };
        public Option<int> Conversations { get; } = new("--conversations") { DefaultValueFactory = _ => 1024 };
        public Option<int?> PerShard { get; } = new("--conversations-per-shard") { Description = "Default: about 128, and at least two shards (one is held out)" };
        public Option<int> ChunkMin { get; } = new("--chunk-min") { DefaultValueFactory = _ => 512 };
        public Option<int> ChunkMax { get; } = new("--chunk-max") { DefaultValueFactory = _ => 4096 };
        public Option<int> PerChunk { get; } = new("--conversations-per-chunk") { Description = "Conversations sharing one chunk (fewer, with short chunks, covers more of the corpus)", DefaultValueFactory = _ => 32 };
        public Option<float> QuestionTemperature { get; } = new("--question-temperature") { Description = "Participant A's sampling temperature", DefaultValueFactory = _ => 0.6f };
        public Option<int> MaxQuestion { get; } = new("--max-question-tokens") { DefaultValueFactory = _ => 512 };
        public Option<int> MaxAnswer { get; } = new("--max-answer-tokens") { DefaultValueFactory = _ => 1024 };
        public Option<double> EvalFraction { get; } = new("--eval-fraction") { Description = "Share of shards held out for evaluation", DefaultValueFactory = _ => 0.1 };
        public Option<bool> GenericSeeds { get; } = new("--generic-seeds") { Description = "Ablation: one generic seed prompt instead of the five families" };
        public Option<int> Steps { get; } = new("--steps") { DefaultValueFactory = _ => 100 };
        public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Global batch (sequences per optimizer step)", DefaultValueFactory = _ => 64 };
        public Option<int> MicroBatch { get; } = new("--micro-batch") { DefaultValueFactory = _ => 4 };
        public Option<double> Lr { get; } = new("--lr") { DefaultValueFactory = _ => 2e-2 };
        public Option<long> Seed { get; } = new("--seed") { DefaultValueFactory = _ => 0L };
        public Option<bool> Resume { get; } = new("--resume") { Description = "Resume from the latest checkpoint" };
        public Option<string?> Checkpoints { get; } = new("--checkpoint-dir") { Description = "Checkpoint directory (default: <out>.ckpt)" };
        public Option<int> CheckpointEvery { get; } = new("--checkpoint-every") { DefaultValueFactory = _ => 25 };
        public Option<string> Init { get; } = new("--init") { Description = "first | text | random", DefaultValueFactory = _ => "first" };
        public Option<string?> InitText { get; } = new("--init-text") { Description = "Text for --init text" };
        public Option<string> Objective { get; } = new("--objective") { Description = "distill | ntp (next-token ablation)", DefaultValueFactory = _ => "distill" };
        public Option<string?> Report { get; } = new("--report") { Description = "JSON report file" };

        public SynthesisOptions Synthesis(ParseResult pr) => new()
        {
            Conversations = pr.GetValue(Conversations),
            ConversationsPerShard = pr.GetValue(PerShard) ?? Abstractions.SynthesisBudget.ShardSizeFor(pr.GetValue(Conversations), 128),
            Seed = (ulong)pr.GetValue(Seed),
            EvalFraction = pr.GetValue(EvalFraction),
            SelfStudy = new SelfStudyOptions
            {
                ChunkMinTokens = pr.GetValue(ChunkMin),
                ChunkMaxTokens = pr.GetValue(ChunkMax),
                ConversationsPerChunk = pr.GetValue(PerChunk),
                QuestionTemperature = pr.GetValue(QuestionTemperature),
                MaxQuestionTokens = pr.GetValue(MaxQuestion),
                MaxAnswerTokens = pr.GetValue(MaxAnswer),
                GenericSeedOnly = pr.GetValue(GenericSeeds),
            },
        };

        public TrainerOptions Trainer(ParseResult pr, string output) => new()
        {
            Steps = pr.GetValue(Steps),
            GlobalBatchSize = pr.GetValue(BatchSize),
            MicroBatchSize = pr.GetValue(MicroBatch),
            LearningRate = pr.GetValue(Lr),
            Seed = pr.GetValue(Seed),
            Resume = pr.GetValue(Resume),
            CheckpointDirectory = pr.GetValue(Checkpoints) ?? output + ".ckpt",
            CheckpointEvery = pr.GetValue(CheckpointEvery),
        };

        public static string ReadCorpus(string[] files)
        {
            if (files.Length == 0) throw new ArgumentException("Give at least one --corpus file.");
            var text = string.Join("\n\n", files.Select(CorpusText.Read));
            CorpusText.Validate(text);
            return text;
        }
    }

    public static IEnumerable<Command> Create() => [Train(), Synthesize(), Distill(), Eval()];

    static Command Train()
    {
        var o = new Options();
        var output = new Option<string>("--out") { Description = "Cartridge file to write", Required = true };
        var data = new Option<string?>("--data") { Description = "Dataset directory (default: <out>.data; reused and resumed)" };
        var cmd = new Command("train", "Synthesize self-study conversations, distill them into a cartridge, evaluate against baselines")
        {
            o.Model, o.Device, o.Corpus, o.Tokens, o.Conversations, o.PerShard, o.ChunkMin, o.ChunkMax, o.PerChunk, o.QuestionTemperature, o.MaxQuestion, o.MaxAnswer,
            o.EvalFraction, o.GenericSeeds, o.Steps, o.BatchSize, o.MicroBatch, o.Lr, o.Seed, o.Resume, o.Checkpoints, o.CheckpointEvery,
            o.Init, o.InitText, o.Objective, o.Report, output, data,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(o.Model)!, ct);
            var corpus = Options.ReadCorpus(pr.GetValue(o.Corpus) ?? []);
            var outFile = pr.GetValue(output)!;
            using var engine = await GenerationEngine.LoadAsync(dir, device: pr.GetValue(o.Device));
            var tokenizer = HfTokenizer.Load(dir);
            var report = await ProgressDisplay.RunAsync(progress => TrainPipeline.RunAsync(engine, tokenizer, new TrainPipelineOptions
            {
                ModelName = pr.GetValue(o.Model)!,
                Corpus = corpus,
                Tokens = pr.GetValue(o.Tokens),
                Init = pr.GetValue(o.Init)!,
                InitText = pr.GetValue(o.InitText),
                Objective = pr.GetValue(o.Objective)!,
                Synthesis = o.Synthesis(pr),
                DataDirectory = pr.GetValue(data) ?? outFile + ".data",
                Trainer = o.Trainer(pr, outFile),
                Output = outFile,
            }, new Progress<TrainPipeline.Phase>(p => progress.Report((p.Name, p.Fraction, p.Detail))), ct));
            var json = report.ToJson();
            // The report goes to its file when one is named, else to stdout; never both (stdout would bury the summary).
            if (pr.GetValue(o.Report) is { } reportFile) File.WriteAllText(reportFile, json);
            else Console.WriteLine(json);
            Console.Error.WriteLine($"wrote {outFile}: held-out loss {report.Eval.Cartridge.Loss:F4} (init {report.Eval.Init.Loss:F4}, truncation {report.Eval.Truncation.Loss:F4}" +
                                    (report.Eval.Icl is { } icl ? $", in context {icl.Loss:F4}" : "") + $"); {report.Memory.Ratio:F1}x less KV memory than the corpus in context");
            return 0;
        }));
        return cmd;
    }

    static Command Synthesize()
    {
        var o = new Options();
        var output = new Option<string>("--out") { Description = "Dataset directory", Required = true };
        var cmd = new Command("synthesize", "Self-study: synthesize conversations with teacher top-k log-probs into dataset shards")
        {
            o.Model, o.Device, o.Corpus, o.Conversations, o.PerShard, o.ChunkMin, o.ChunkMax, o.PerChunk, o.QuestionTemperature, o.MaxQuestion, o.MaxAnswer, o.EvalFraction, o.GenericSeeds, o.Seed, output,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(o.Model)!, ct);
            var corpus = Options.ReadCorpus(pr.GetValue(o.Corpus) ?? []);
            using var engine = await GenerationEngine.LoadAsync(dir, device: pr.GetValue(o.Device));
            var result = await ProgressDisplay.RunAsync(progress => SynthesisRunner.RunAsync(engine, HfTokenizer.Load(dir), corpus, o.Synthesis(pr), pr.GetValue(output)!,
                new Progress<SynthesisProgress>(p => progress.Report(("synthesis", (double)p.ConversationsDone / Math.Max(1, p.ConversationsTotal),
                    $"{p.ConversationsDone}/{p.ConversationsTotal} conversations, {p.TokensPerSecond:F0} tok/s"))), ct));
            Console.WriteLine($"{result.Manifest.Conversations} conversations in {result.Manifest.Shards.Count} shards " +
                              $"({result.ShardsGenerated} generated, {result.ShardsSkipped} kept) at {pr.GetValue(output)}");
            return 0;
        }));
        return cmd;
    }

    static Command Distill()
    {
        var o = new Options();
        var output = new Option<string>("--out") { Description = "Cartridge file to write", Required = true };
        var data = new Option<string>("--data") { Description = "Dataset directory from `cartridges synthesize`", Required = true };
        var cmd = new Command("distill", "Train a cartridge by context distillation on a synthesized dataset")
        {
            o.Model, o.Device, o.Corpus, o.Tokens, o.Steps, o.BatchSize, o.MicroBatch, o.Lr, o.Seed, o.Resume, o.Checkpoints, o.CheckpointEvery, o.Init, o.InitText, output, data,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(o.Model)!, ct);
            var tokenizer = HfTokenizer.Load(dir);
            using var engine = await GenerationEngine.LoadAsync(dir, device: pr.GetValue(o.Device));
            var dataset = SynthDataset.Open(pr.GetValue(data)!, engine.Model.Config);
            var initText = pr.GetValue(o.Init) == "text" ? pr.GetValue(o.InitText) ?? "" : Options.ReadCorpus(pr.GetValue(o.Corpus) ?? []);
            var outFile = pr.GetValue(output)!;
            using var cartridge = await engine.RunAsync(m => pr.GetValue(o.Init) == "random"
                ? CartridgeInitializer.Random(m, tokenizer, pr.GetValue(o.Tokens), pr.GetValue(o.Seed))
                : CartridgeInitializer.FromText(m, tokenizer, initText, pr.GetValue(o.Tokens)));
            using var trainer = new Trainer(engine.Model, cartridge, new DistillationObjective(dataset.Train), o.Trainer(pr, outFile) with { ModelName = pr.GetValue(o.Model)! });
            var summary = await ProgressDisplay.RunAsync(progress => trainer.RunAsync(engine, new Progress<TrainingProgress>(p =>
                progress.Report(("training", (double)p.OptimizerStep / p.TotalSteps, $"step {p.OptimizerStep}/{p.TotalSteps} loss {p.Loss:F4} {p.TokensPerSecond:F0} tok/s"))), ct));
            await engine.RunAsync(_ =>
            {
                CartridgeFile.Save(outFile, cartridge, trainer.Metadata());
                return 0;
            });
            Console.WriteLine($"wrote {outFile} after {summary.OptimizerStep} steps, final loss {summary.FinalLoss:F4}");
            return 0;
        }));
        return cmd;
    }

    static Command Eval()
    {
        var o = new Options();
        var cartridgeFile = new Option<string>("--cartridge") { Description = "Cartridge file", Required = true };
        var data = new Option<string>("--data") { Description = "Dataset directory (its held-out split is scored)", Required = true };
        var cmd = new Command("eval", "Score a cartridge on a dataset's held-out conversations (distillation loss, top-1 agreement)")
        {
            o.Model, o.Device, o.Report, cartridgeFile, data,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(o.Model)!, ct);
            using var engine = await GenerationEngine.LoadAsync(dir, device: pr.GetValue(o.Device));
            var dataset = SynthDataset.Open(pr.GetValue(data)!, engine.Model.Config);
            var score = await engine.RunAsync(m =>
            {
                using var prefix = CartridgeLoader.LoadPrefixes([pr.GetValue(cartridgeFile)!], m)[0];
                return DistillationEvaluator.Score(m, dataset.Eval, [new PrefixSegment(prefix, 0)]);
            });
            var json = JsonSerializer.Serialize(new { loss = score.Loss, top1 = score.Top1Agreement, tokens = score.Tokens, examples = score.Examples },
                new JsonSerializerOptions { WriteIndented = true });
            if (pr.GetValue(o.Report) is { } reportFile)
            {
                File.WriteAllText(reportFile, json);
                Console.Error.WriteLine($"held-out loss {score.Loss:F4}, top-1 agreement {score.Top1Agreement:P1}; report in {reportFile}");
            }
            else
            {
                Console.WriteLine(json);
            }
            return 0;
        }));
        return cmd;
    }
}
