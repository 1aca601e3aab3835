// `cartridges train` end to end: self-study synthesis → context distillation → held-out evaluation against the
// baselines (initialisation, first-p truncation, whole corpus in context), all on one engine's device thread.
using System.Diagnostics;
using Cartridges.Model.Chat;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using Cartridges.Training.Evaluation;

namespace Cartridges.Training.Pipeline;

/// <summary>Options of a whole training run.</summary>
public sealed record TrainPipelineOptions
{
    /// <summary>Model identity recorded in the cartridge (directory or HF id).</summary>
    public required string ModelName { get; init; }

    /// <summary>The corpus text (already UTF-8-validated).</summary>
    public required string Corpus { get; init; }

    /// <summary>Cartridge size p in tokens.</summary>
    public required int Tokens { get; init; }

    /// <summary>first (first p tokens of the corpus), text (InitText), or random.</summary>
    public string Init { get; init; } = "first";

    /// <summary>Text for Init = text.</summary>
    public string? InitText { get; init; }

    /// <summary>distill (context distillation) or ntp (next-token prediction on the corpus, the ablation).</summary>
    public string Objective { get; init; } = "distill";

    /// <summary>Synthesis settings.</summary>
    public SynthesisOptions Synthesis { get; init; } = new();

    /// <summary>Where the synthesized dataset lives (reused and resumed if present).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Trainer settings (checkpoint directory, resume, steps, batch, lr, seed).</summary>
    public TrainerOptions Trainer { get; init; } = new();

    /// <summary>Output cartridge file.</summary>
    public required string Output { get; init; }
}

/// <summary>Runs synthesis, training and evaluation and writes the cartridge.</summary>
public static class TrainPipeline
{
    /// <summary>Phase names reported through progress.</summary>
    public sealed record Phase(string Name, double Fraction, string Detail);

    /// <summary>Runs everything; returns the report (the caller writes it where asked).</summary>
    public static async Task<TrainReport> RunAsync(GenerationEngine engine, HfTokenizer tokenizer, TrainPipelineOptions options,
        IProgress<Phase>? progress = null, CancellationToken ct = default)
    {
        var model = engine.Model;
        // The truncation baseline is always the corpus's first p tokens; the init is the same unless asked otherwise.
        var truncationTokens = CartridgeInitializer.InitTokens(tokenizer, model.Config, options.Corpus, options.Tokens);
        var initTokens = options.Init == "text"
            ? CartridgeInitializer.InitTokens(tokenizer, model.Config, options.InitText ?? "", options.Tokens)
            : truncationTokens;

        var clock = Stopwatch.StartNew();
        var synth = await SynthesisRunner.RunAsync(engine, tokenizer, options.Corpus, options.Synthesis, options.DataDirectory,
            new Progress<SynthesisProgress>(p => progress?.Report(new Phase("synthesis", (double)p.ConversationsDone / Math.Max(1, p.ConversationsTotal),
                $"{p.ConversationsDone}/{p.ConversationsTotal} conversations, {p.TokensPerSecond:F0} tok/s"))), ct);
        var synthesisSeconds = clock.Elapsed.TotalSeconds;
        var data = SynthDataset.Open(options.DataDirectory, model.Config);
        if (data.Train.Count == 0) throw new InvalidOperationException($"{options.DataDirectory}: no training conversations.");
        if (data.Eval.Count == 0) throw new InvalidOperationException($"{options.DataDirectory}: no held-out conversations; raise --conversations or the eval fraction.");

        clock.Restart();
        using var cartridge = await engine.RunAsync(m => options.Init switch
        {
            "random" => CartridgeInitializer.Random(m, tokenizer, options.Tokens, options.Trainer.Seed),
            "first" or "text" => CartridgeInitializer.FromTokens(m, initTokens),
            _ => throw new ArgumentException($"Unknown init '{options.Init}'; use first, text or random."),
        });
        using var initial = await engine.RunAsync(_ => cartridge.ToServingPrefix());
        TrainingObjective objective = options.Objective switch
        {
            "distill" => new DistillationObjective(data.Train),
            "ntp" => NextTokenObjective.FromCorpus(tokenizer.Encode(options.Corpus), Math.Max(64, options.Synthesis.SelfStudy.ChunkMinTokens)),
            _ => throw new ArgumentException($"Unknown objective '{options.Objective}'; use distill or ntp."),
        };
        using var trainer = new Trainer(model, cartridge, objective, options.Trainer with { ModelName = options.ModelName });
        var summary = await trainer.RunAsync(engine, new Progress<TrainingProgress>(p => progress?.Report(new Phase("training",
            (double)p.OptimizerStep / p.TotalSteps, $"step {p.OptimizerStep}/{p.TotalSteps} loss {p.Loss:F4} {p.TokensPerSecond:F0} tok/s"))), ct);
        var trainingSeconds = clock.Elapsed.TotalSeconds;
        await engine.RunAsync(_ =>
        {
            CartridgeFile.Save(options.Output, cartridge, trainer.Metadata());
            return 0;
        });

        clock.Restart();
        progress?.Report(new Phase("evaluation", 0, "scoring the cartridge and baselines"));
        var corpusIds = ChatTemplate.For(CartridgeInitializer.TemplateFamily(model.Config))
            .Encode(tokenizer, [new ChatMessage("system", options.Corpus)], addGenerationPrompt: false);
        var scores = await engine.RunAsync(m =>
        {
            using var trained = cartridge.ToServingPrefix();
            using var truncation = PrefixBuilder.FromTokens(m, truncationTokens);
            var longest = data.Eval.Max(e => e.Tokens.Length);
            using var icl = corpusIds.Count + longest <= m.Config.MaxPositionEmbeddings ? PrefixBuilder.FromTokens(m, corpusIds) : null;
            EvalScore S(KvPrefix p) => DistillationEvaluator.Score(m, data.Eval, [new PrefixSegment(p, 0)]);
            return (Cartridge: S(trained), Init: S(initial), Truncation: S(truncation), Icl: icl is null ? null : S(icl));
        });
        var elem = model.DType == TorchSharp.torch.ScalarType.Float32 ? 4 : 2;
        var memory = MemoryReport.For(model.Config, options.Tokens, corpusIds.Count, elem);
        static ScoreEntry E(EvalScore s) => new(s.Loss, s.Top1Agreement);
        return new TrainReport
        {
            Eval = new EvalSection(E(scores.Cartridge), E(scores.Init), E(scores.Truncation), scores.Icl is null ? null : E(scores.Icl),
                scores.Cartridge.Examples, scores.Cartridge.Tokens),
            Memory = new MemorySection(memory.CartridgeBytes, memory.IclKvBytes, memory.CartridgeTokens, memory.CorpusTokens, memory.Ratio),
            Timings = new TimingsSection(synthesisSeconds, trainingSeconds, clock.Elapsed.TotalSeconds),
            Training = new TrainingSection(objective.Name, summary.OptimizerStep, summary.ResumedFromStep, summary.FinalLoss, summary.TokensPerSecond, data.Train.Count),
        };
    }
}
