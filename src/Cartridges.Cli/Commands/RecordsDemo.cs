// The demo on a records model (one that reads its context): a held-out records document of about 2k tokens, a
// cartridge of p tokens trained on it by self-study (shipped with the model, imported into an embedded silo; or
// trained there with a smaller budget), and the same questions answered three ways —
// from the cartridge, from the document's first p tokens in context (what the same memory buys without training),
// and from the whole document in context — each beside the gold answer, then the memory each needs.
using System.Diagnostics;
using Cartridges.Abstractions;
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.ProvingGround.Pretraining;
using Cartridges.ProvingGround.Records;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using TorchSharp;

namespace Cartridges.Cli.Commands;

/// <summary>The records variant of `cartridges demo`.</summary>
internal static class RecordsDemo
{
    /// <summary>Length of the demo document in the model's tokens (or the longest the model's documents get, if shorter).</summary>
    public const int DocumentTokens = 2048;

    /// <summary>Share of a keyed document's patients with a second note (keyed records with notes).</summary>
    public const double ExtraNotes = 0.1;

    /// <summary>Fact kinds asked, one per question, in this order (a model's documents state some of them; those are asked).</summary>
    static readonly FactKind[] Kinds = [FactKind.Ward, FactKind.Drug, FactKind.Diagnosis, FactKind.Physician, FactKind.Number, FactKind.Birth, FactKind.Dose, FactKind.Lab];

    /// <summary>True when <paramref name="modelDir"/> is a model trained by `model pretrain` (it says which records wording it reads).</summary>
    public static bool IsRecordsModel(string modelDir) => RecordsModelInfo.DeclaredFactStyle(modelDir) is not null;

    /// <summary>The demo document and its questions for a model (deterministic).</summary>
    public static (RecordsDocument Document, IReadOnlyList<RecordsQuestion> Questions) Material(HfTokenizer tokenizer, FactStyle style, string modelDir)
    {
        // Documents as the model was trained on them (its fact kinds and facts per record), as long as they can get.
        var generator = RecordsModelInfo.GeneratorFor(modelDir, RecordSplit.HeldOut, 2026, style);
        // Keyed records with notes hold one patient per surname in the vocabulary, under 2k tokens with one note each:
        // a second note for some patients makes the document as long as the demo's target.
        if (generator.Style.IsKeyed() && generator.Notes)
            generator = RecordsModelInfo.GeneratorFor(modelDir, RecordSplit.HeldOut, 2026, style, extraNotes: ExtraNotes);
        int Count(string text) => tokenizer.Encode(text).Count;
        var doc = generator.Style.IsKeyed() && generator.Document(0, generator.MaxRecords) is var full && Count(full.Text) <= DocumentTokens
            ? full // a keyed document with every surname is shorter than the target
            : generator.DocumentOfTokens(0, DocumentTokens, Count);
        var rng = generator.StreamRng("demo", 0);
        // Patients spread over the document: the first is inside any cartridge's first-p-token initialisation, the rest
        // are beyond it, where only what training put into the cartridge can answer. Only kinds the document states.
        var kinds = Kinds.Where(doc.FactKinds.Contains).ToList();
        var asked = Enumerable.Range(0, Kinds.Length).Select(i => kinds[i % kinds.Count]).ToList();
        var questions = asked.Select((kind, i) => generator.Question(rng, doc, i * (doc.Records.Count - 1) / (asked.Count - 1), kind)).ToList();
        return (doc, questions);
    }

    /// <summary>Folder of a records model that holds its demo document and the cartridge trained on it.</summary>
    public const string DemoFolder = "demo";

    /// <summary>
    /// The cartridge a model ships for its demo document, when it is for exactly <paramref name="documentText"/> (the
    /// demo's document is generated; a changed generator gets no stale cartridge) and of size <paramref name="p"/>;
    /// else null.
    /// </summary>
    public static string? ShippedCartridge(string modelDir, string documentText, int p)
    {
        var dir = Path.Combine(modelDir, DemoFolder);
        var document = Path.Combine(dir, "document.txt");
        var cartridge = Path.Combine(dir, "cartridge.safetensors");
        if (!File.Exists(document) || !File.Exists(cartridge) || File.ReadAllText(document) != documentText) return null;
        return Cartridges.Training.Cartridges.CartridgeFile.ReadMetadata(cartridge).Tokens == p ? cartridge : null;
    }

    public static async Task RunAsync(string modelDir, int? size, string dataDir, string device, bool retrain, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var style = RecordsModelInfo.FactStyleOf(modelDir);
        var tokenizer = HfTokenizer.Load(modelDir);
        var (doc, questions) = Material(tokenizer, style, modelDir);
        var docPath = Path.Combine(dataDir, "records-document.txt");
        Directory.CreateDirectory(dataDir);
        await File.WriteAllTextAsync(docPath, doc.Text, ct);
        var docTokens = tokenizer.Encode(doc.Text);
        // An eighth of the document unless told (the paper's headline ratio): its first p tokens miss most patients.
        var p = size ?? Math.Max(16, docTokens.Count / 8);
        var shipped = retrain ? null : ShippedCartridge(modelDir, doc.Text, p);
        AnsiConsole.MarkupLine($"[bold]Document[/]: {doc.Records.Count} patient records, {docTokens.Count:N0} tokens (saved to {Markup.Escape(docPath)}). " +
                               (shipped is null
                                   ? $"A cartridge of [bold]{p}[/] tokens will be trained on it."
                                   : $"The model ships a cartridge of [bold]{p}[/] tokens trained on it by self-study (see its card); [grey]--retrain[/] trains one here."));
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(doc.Text[..Math.Min(doc.Text.Length, 240)].Replace('\n', ' '))} …[/]");

        await using var silo = await EmbeddedSilo.StartAsync(modelDir, Path.Combine(dataDir, "silo"), "default", device);
        var loaded = await silo.Services.GetRequiredService<SiloEngineHost>().GetAsync("default");
        var grain = silo.Grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of("demo", "records"));
        var spec = new CartridgeSpec
        {
            BaseModel = "default",
            Corpus = doc.Text,
            SizeTokens = p,
            // Chunks of a few records, a few conversations each: the question writer then asks about every part of the
            // document, not only its favourite patients. Turns of a records model are short.
            Synthesis = new SynthesisBudget
            {
                Conversations = 1024,
                ConversationsPerShard = 128,
                ChunkMinTokens = 32,
                ChunkMaxTokens = 32,
                MaxQuestionTokens = 32,
                MaxAnswerTokens = 24,
                ConversationsPerChunk = 4,
                EvalShards = 1,
            },
            Training = new TrainingBudget { Steps = 256, BatchSize = 16, CheckpointEvery = 128 },
        };
        var status = shipped is null ? await DemoCommand.TrainAsync(grain, spec, ct) : await grain.ImportAsync(spec, await File.ReadAllBytesAsync(shipped, ct));

        var ask = new AskOptions { MaxTokens = 16 };
        var fromCartridge = await Task.WhenAll(questions.Select(q => grain.AskAsync(q.Text, ask)));
        var truncatedText = tokenizer.Decode(docTokens.Take(p).ToArray());
        var fromTruncated = await InContextAsync(loaded, truncatedText, questions, ask.MaxTokens, ct);
        var config = loaded.Engine.Model.Config;
        var wholePrompt = RecordsChat.EncodeFirstPrompt(tokenizer, doc.Text, questions[0].Text).Count;
        var fromWhole = wholePrompt + ask.MaxTokens <= config.MaxPositionEmbeddings ? await InContextAsync(loaded, doc.Text, questions, ask.MaxTokens, ct) : null;

        var table = new Table().AddColumns("#", "question", "gold", $"cartridge ({p} tok)", $"first {p} tokens in context", "whole document in context");
        var scores = new int[3];
        for (var i = 0; i < questions.Count; i++)
        {
            var gold = questions[i].Answer;
            string Cell(string answer, int column)
            {
                var ok = string.Equals(answer.Trim(), gold, StringComparison.Ordinal);
                if (ok) scores[column]++;
                return ok ? $"[green]{Markup.Escape(answer.Trim())}[/]" : $"[red]{Markup.Escape(answer.Trim())}[/]";
            }
            table.AddRow((i + 1).ToString(), Markup.Escape(questions[i].Text), $"[bold]{Markup.Escape(gold)}[/]", Cell(fromCartridge[i].Text, 0), Cell(fromTruncated[i], 1),
                fromWhole is null ? "does not fit" : Cell(fromWhole[i], 2));
        }
        table.AddRow("", "[bold]exact match[/]", "", $"{scores[0]}/{questions.Count}", $"{scores[1]}/{questions.Count}",
            fromWhole is null ? "" : $"{scores[2]}/{questions.Count}");
        AnsiConsole.Write(table);

        var elem = loaded.Engine.Model.DType == torch.ScalarType.Float32 ? 4 : 2;
        var perToken = config.KvBytesPerToken(elem);
        var memory = new Table().AddColumns("", "KV tokens", "KV bytes");
        memory.AddRow("cartridge", p.ToString(), $"{(long)p * perToken:N0}");
        memory.AddRow($"first {p} tokens in context", p.ToString(), $"{(long)p * perToken:N0}");
        memory.AddRow("whole document in context", docTokens.Count.ToString(), $"{(long)docTokens.Count * perToken:N0}");
        AnsiConsole.Write(memory);
        AnsiConsole.MarkupLine($"The cartridge holds [bold]{(double)docTokens.Count / p:F1}× less[/] KV than the whole document and answered " +
                               $"{scores[0]}/{questions.Count}; the same memory as plain context answered {scores[1]}/{questions.Count}. " +
                               (shipped is null ? $"Trained in {status.Step} steps; " : "Shipped cartridge; ") + $"demo took {clock.Elapsed.TotalSeconds:F0} s.");
    }

    // Greedy answers with a text in the system turn, exactly as the records model was trained to read.
    static async Task<string[]> InContextAsync(LoadedModel model, string text, IReadOnlyList<RecordsQuestion> questions, int maxTokens, CancellationToken ct)
    {
        var results = await Task.WhenAll(questions.Select(q => model.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = RecordsChat.EncodeFirstPrompt(model.Tokenizer, text, q.Text),
            Sampling = SamplingParams.Greedy(maxTokens, model.StopTokens),
        }, ct)));
        return results.Select(r => model.Tokenizer.Decode(r.Tokens.Where(t => !model.StopTokens.Contains(t)).ToArray())).ToArray();
    }
}
