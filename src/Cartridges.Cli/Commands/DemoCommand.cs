// `cartridges demo`: the whole product in one process. An embedded silo trains a cartridge on a sample document
// shipped in this executable, answers questions from it, and compares its memory and throughput with putting the
// whole document in context. Without --model it writes a tiny random model, so the answers are noise until a
// trained model is given; the mechanics (and the numbers) are the real ones.
using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using Cartridges.Abstractions;
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Cartridges.Model.Chat;
using Cartridges.Model.Config;
using Cartridges.Model.Engine;
using Cartridges.Model.Presets;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using TorchSharp;

namespace Cartridges.Cli.Commands;

/// <summary>The `demo` command.</summary>
internal static class DemoCommand
{
    static readonly string[] Questions =
    [
        "Who keeps the lighthouse log?",
        "What happened during the great storm?",
        "Summarize the chronicle in two sentences.",
    ];

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = $"Model directory or Hugging Face id (default: the shipped records model in {QualityBenchCommand.DefaultModel} when present, else a tiny random model)" };
        var document = new Option<string?>("--document") { Description = "Text file to train on (default: a records document for a records model, else the shipped sample chronicle)" };
        var tokens = new Option<int?>("--tokens") { Description = "Cartridge size p (default an eighth of a records document, else 64)" };
        var retrain = new Option<bool>("--retrain") { Description = "Records model: train the cartridge here even if the model ships one for its demo document" };
        var data = new Option<string?>("--data") { Description = "Data directory to keep (default: a temporary one, removed afterwards)" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };
        var cmd = new Command("demo", "Train a cartridge on a sample document in an embedded silo, ask it questions, compare with in-context")
        {
            model, document, tokens, data, device, retrain,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var keep = pr.GetValue(data);
            var dataDir = keep ?? Directory.CreateTempSubdirectory("cartridges-demo-").FullName;
            try
            {
                var modelDir = pr.GetValue(model) is { } m ? await CliRunner.ResolveModelAsync(m, ct) : ShippedRecordsModel() ?? TinyModel(dataDir);
                if (pr.GetValue(document) is null && RecordsDemo.IsRecordsModel(modelDir))
                {
                    await RecordsDemo.RunAsync(modelDir, pr.GetValue(tokens), dataDir, pr.GetValue(device)!, pr.GetValue(retrain), ct);
                    return 0;
                }
                var text = pr.GetValue(document) is { } path ? await File.ReadAllTextAsync(path, ct) : SampleDocument();
                await RunAsync(modelDir, text, pr.GetValue(tokens) ?? 64, dataDir, pr.GetValue(device)!, ct);
                return 0;
            }
            finally
            {
                if (keep is null) TryDelete(dataDir);
            }
        }));
        return cmd;
    }

    static async Task RunAsync(string modelDir, string text, int p, string dataDir, string device, CancellationToken ct)
    {
        AnsiConsole.MarkupLine($"[bold]Starting an embedded silo[/] (Local profile, data in {Markup.Escape(dataDir)})");
        await using var silo = await EmbeddedSilo.StartAsync(modelDir, Path.Combine(dataDir, "silo"), "default", device);
        var loaded = await silo.Services.GetRequiredService<SiloEngineHost>().GetAsync("default");
        var config = loaded.Engine.Model.Config;
        var grain = silo.Grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of("demo", "sample"));
        var spec = new CartridgeSpec
        {
            BaseModel = "default",
            Corpus = text,
            SizeTokens = p,
            Synthesis = new SynthesisBudget
            {
                Conversations = 32,
                ConversationsPerShard = 8,
                ChunkMinTokens = 128,
                ChunkMaxTokens = 256,
                MaxQuestionTokens = 24,
                MaxAnswerTokens = 32,
                ConversationsPerChunk = 8,
                EvalShards = 1,
            },
            Training = new TrainingBudget { Steps = 16, BatchSize = 8, CheckpointEvery = 8 },
        };
        var status = await TrainAsync(grain, spec, ct);

        var ask = new AskOptions { MaxTokens = 48 };
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Questions.Select(q => grain.AskAsync(q, ask)));
        var cartridgeSeconds = clock.Elapsed.TotalSeconds;
        foreach (var (q, a) in Questions.Zip(answers))
            AnsiConsole.MarkupLine($"[bold]Q:[/] {Markup.Escape(q)}\n[bold]A:[/] {Markup.Escape(a.Text.Trim())}\n");

        // The same questions with the whole document in context (its KV cached once, as a server would).
        var documentIds = loaded.Template.Encode(loaded.Tokenizer, [new ChatMessage("system", text)], addGenerationPrompt: false);
        var elem = loaded.Engine.Model.DType == torch.ScalarType.Float32 ? 4 : 2;
        var table = new Table().AddColumns("", "KV tokens", "KV bytes", "decode tok/s (3 questions at once)");
        var cartridgeTokens = answers.Sum(a => a.CompletionTokens);
        table.AddRow("cartridge", p.ToString(), $"{status.ResidentBytes:N0}", $"{cartridgeTokens / cartridgeSeconds:F1}");
        if (documentIds.Count + 64 < config.MaxPositionEmbeddings)
        {
            await loaded.Engine.RegisterPrefixFromTokensAsync("demo-document", documentIds);
            clock.Restart();
            var icl = await Task.WhenAll(Questions.Select(q => loaded.Engine.GenerateAsync(new GenerationRequest
            {
                Prompt = loaded.Template.Encode(loaded.Tokenizer, [new ChatMessage("user", q)], addGenerationPrompt: true, forCartridge: true),
                PrefixIds = ["demo-document"],
                Sampling = new SamplingParams { MaxTokens = ask.MaxTokens, StopTokens = loaded.StopTokens },
            }, ct)));
            var iclSeconds = clock.Elapsed.TotalSeconds;
            table.AddRow("whole document in context", documentIds.Count.ToString(), $"{documentIds.Count * config.KvBytesPerToken(elem):N0}",
                $"{icl.Sum(r => r.Tokens.Count) / iclSeconds:F1}");
        }
        else
        {
            table.AddRow("whole document in context", documentIds.Count.ToString(), $"{documentIds.Count * config.KvBytesPerToken(elem):N0}",
                $"does not fit the {config.MaxPositionEmbeddings}-token context");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Memory: the cartridge's KV is [bold]{(double)documentIds.Count / p:F1}× smaller[/] than the document's.");
    }

    /// <summary>Creates and starts a cartridge, showing progress until it serves; throws if training fails.</summary>
    public static async Task<CartridgeStatus> TrainAsync(ICartridgeGrain grain, CartridgeSpec spec, CancellationToken ct)
    {
        await grain.CreateAsync(spec);
        await grain.StartAsync();
        var status = await grain.GetStatusAsync();
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask("training", maxValue: 100);
                while (status.State is not (CartridgeState.Serving or CartridgeState.Failed or CartridgeState.Stopped))
                {
                    bar.Value = status.Progress * 100;
                    bar.Description = $"{status.State.ToString().ToLowerInvariant()} " +
                                      (status.State == CartridgeState.Generating ? $"{status.ShardsDone}/{status.ShardsTotal} shards" : $"step {status.Step}/{status.TotalSteps}");
                    await Task.Delay(500, ct);
                    status = await grain.GetStatusAsync();
                }
                bar.Value = 100;
            });
        if (status.State != CartridgeState.Serving) throw new InvalidOperationException($"Training did not finish ({status.State}): {status.Error}");
        AnsiConsole.MarkupLine($"[green]Serving[/] after {status.Step} steps, final loss {status.Loss:F4}");
        return status;
    }

    /// <summary>The sample document shipped in this build.</summary>
    internal static string SampleDocument()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("sample-document.txt")
            ?? throw new InvalidOperationException("The sample document is missing from this build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The records model shipped in the repository, looked up from the working directory and from the executable's.</summary>
    internal static string? ShippedRecordsModel()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, QualityBenchCommand.DefaultModel);
                if (File.Exists(Path.Combine(candidate, "config.json"))) return candidate;
            }
        }
        return null;
    }

    static string TinyModel(string dataDir)
    {
        var dir = Path.Combine(dataDir, "models", "tiny");
        if (!File.Exists(Path.Combine(dir, "config.json")))
        {
            AnsiConsole.MarkupLine("No --model given: writing a tiny random Llama (answers will be noise; the mechanics are real).");
            RandomModelWriter.Create(dir, ModelFamily.Llama, "tiny", 1, torch.ScalarType.Float32);
        }
        return dir;
    }

    static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
