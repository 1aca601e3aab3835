// `cartridges data records …` and `cartridges model pretrain …`: the proving ground of issue 6 — records QA data
// and the small model trained from scratch to read it.
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.ProvingGround.Pretraining;
using Cartridges.ProvingGround.Records;
using Cartridges.ProvingGround.Vocabulary;
using TorchSharp;

namespace Cartridges.Cli.Commands;

/// <summary>Proving-ground commands.</summary>
internal static class ProvingGroundCommands
{
    static readonly JsonSerializerOptions JsonLines = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The `data` command group.</summary>
    public static Command Data()
    {
        var cmd = new Command("data", "Generate benchmark data");
        cmd.Subcommands.Add(Records());
        cmd.Subcommands.Add(RecordsEval());
        cmd.Subcommands.Add(RecordsSequences());
        return cmd;
    }

    static Option<string> SplitOption() => new Option<string>("--split") { Description = "train, heldout or heldout-templates", DefaultValueFactory = _ => "heldout" }
        .AcceptOnlyFromAmong("train", "heldout", "heldout-templates");

    internal static Option<string> FactStyleOption() => new Option<string>("--fact-style")
    {
        Description = "varied (default data), name-first (every fact opens with the full name) or keyed (\"{surname} {attribute} {value}.\") or keyed-name-next (\"{attribute} {surname} {value}.\"); default: what the model was trained on, else varied",
    }.AcceptOnlyFromAmong("varied", "name-first", "keyed", "keyed-name-next");

    internal static FactStyle ParseStyle(string? s, FactStyle fallback = FactStyle.Varied) => s switch
    {
        null => fallback,
        "name-first" => FactStyle.NameFirst,
        "keyed" => FactStyle.Keyed,
        "keyed-name-next" => FactStyle.KeyedNameNext,
        _ => FactStyle.Varied,
    };

    static RecordSplit ParseSplit(string s) => s switch
    {
        "train" => RecordSplit.Train,
        "heldout" => RecordSplit.HeldOut,
        _ => RecordSplit.HeldOutTemplates,
    };

    static Command Records()
    {
        var split = SplitOption();
        var count = new Option<int>("--count") { Description = "Documents to write", DefaultValueFactory = _ => 10 };
        var records = new Option<int?>("--records") { Description = "Patients per document" };
        var tokens = new Option<int?>("--tokens") { Description = "Target document length in tokens (records vocabulary), e.g. 1024 .. 32768" };
        var first = new Option<long>("--first") { Description = "Index of the first document", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Directory for documents.jsonl and questions.jsonl", Required = true };
        var style = FactStyleOption();
        var model = new Option<string?>("--model") { Description = "Write documents as this records model was trained on them (its wording, fact kinds, notes)" };
        var extraNotes = ExtraNotesOption();
        var cmd = new Command("records", "Generate records documents (patients, dates, diagnoses, medications, labs) and questions with exact answers, as JSONL and one text file per document")
        {
            split, count, records, tokens, first, seed, output, style, model, extraNotes,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(() =>
        {
            if (pr.GetValue(records) is null == pr.GetValue(tokens) is null) throw new ArgumentException("Give exactly one of --records or --tokens.");
            var splitValue = ParseSplit(pr.GetValue(split)!);
            RecordsGenerator gen;
            if (pr.GetValue(model) is { } modelDir)
            {
                if (RecordsModelInfo.DeclaredFactStyle(modelDir) is not { } trained)
                    throw new ArgumentException($"--model {modelDir}: not a records model directory (its model.safetensors does not say how it was trained).");
                gen = RecordsModelInfo.GeneratorFor(modelDir, splitValue, pr.GetValue(seed), ParseStyle(pr.GetValue(style), trained), extraNotes: pr.GetValue(extraNotes));
            }
            else
            {
                var wording = ParseStyle(pr.GetValue(style)!);
                gen = new RecordsGenerator(splitValue, pr.GetValue(seed), wording, notes: pr.GetValue(extraNotes) > 0 && wording.IsKeyed(), extraNotes: pr.GetValue(extraNotes));
            }
            var dir = pr.GetValue(output)!;
            Directory.CreateDirectory(dir);
            using var docs = new StreamWriter(Path.Combine(dir, "documents.jsonl"));
            using var questions = new StreamWriter(Path.Combine(dir, "questions.jsonl"));
            for (var i = 0; i < pr.GetValue(count); i++)
            {
                var index = pr.GetValue(first) + i;
                var doc = pr.GetValue(records) is { } r ? gen.Document(index, r) : gen.DocumentOfTokens(index, pr.GetValue(tokens)!.Value);
                docs.WriteLine(JsonSerializer.Serialize(new { id = doc.Id, split = pr.GetValue(split), records = doc.Records.Count, tokens = TokenEstimate.Count(doc.Text), text = doc.Text }, JsonLines));
                // The text alone too: what `cartridges train --corpus` takes.
                File.WriteAllText(Path.Combine(dir, doc.Id + ".txt"), doc.Text);
                foreach (var q in gen.Questions(doc))
                {
                    questions.WriteLine(JsonSerializer.Serialize(new
                    {
                        document = doc.Id,
                        kind = q.Kind.ToString(),
                        record = q.Record,
                        template = q.Template,
                        question = q.Text,
                        answer = q.Answer,
                        choices = q.Choices,
                        correct = q.CorrectLetter,
                        multiple_choice = q.MultipleChoiceText,
                    }, JsonLines));
                }
            }
            Console.WriteLine($"wrote {pr.GetValue(count)} documents to {Path.GetFullPath(dir)}");
            return Task.FromResult(0);
        }));
        return cmd;
    }

    static Command RecordsSequences()
    {
        var output = new Option<string>("--out") { Description = "Output directory", Required = true };
        var counts = new Option<int[]>("--counts")
        {
            Description = "Training conversations per record count 1, 2, 3, … (one number per count)",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [12000, 8000, 5000, 3000, 2500, 2000, 1200, 1000, 800, 800, 500, 500],
        };
        var probe = new Option<int>("--probe-count") { Description = "Held-out probe conversations per record count", DefaultValueFactory = _ => 48 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var style = FactStyleOption();
        var factsPerRecord = new Option<int>("--facts-per-record") { Description = "Fact kinds stated per record, 1-9 (0 = all ten; 1 = the binding stage)" };
        var cmd = new Command("records-sequences", "Export the records recipe's training and probe conversations (token ids + reply labels, gzip) for study with other tools")
        {
            output, counts, probe, seed, style, factsPerRecord,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(() =>
        {
            var dir = pr.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var facts = ParseStyle(pr.GetValue(style)!);
            var recipe = (facts.IsKeyed() ? PretrainRecipe.Keyed : PretrainRecipe.Records) with
            {
                Seed = pr.GetValue(seed),
                Facts = facts,
                FactsPerRecord = pr.GetValue(factsPerRecord),
            };
            TokenizerJsonWriter.Write(dir, VocabularySamples.Pieces(recipe.Seed));
            var tokenizer = HfTokenizer.Load(dir);
            var train = pr.GetValue(counts)!.Select((n, i) => (Records: i + 1, n)).ToDictionary(x => x.Records, x => x.n);
            var held = train.Keys.ToDictionary(r => r, _ => pr.GetValue(probe));
            Console.WriteLine($"train.bin.gz: {SequenceExport.Write(Path.Combine(dir, "train.bin.gz"), tokenizer, recipe, RecordSplit.Train, train):N0} tokens");
            Console.WriteLine($"heldout.bin.gz: {SequenceExport.Write(Path.Combine(dir, "heldout.bin.gz"), tokenizer, recipe, RecordSplit.HeldOut, held, probe: true):N0} tokens");
            Console.WriteLine($"heldout-nodoc.bin.gz: {SequenceExport.Write(Path.Combine(dir, "heldout-nodoc.bin.gz"), tokenizer, recipe, RecordSplit.HeldOut, held, probe: true, withoutDocument: true):N0} tokens");
            return Task.FromResult(0);
        }));
        return cmd;
    }

    static Command RecordsEval()
    {
        var model = new Option<string>("--model") { Description = "Model directory", Required = true };
        var split = SplitOption();
        var tokens = new Option<int[]>("--tokens") { Description = "Document lengths to test", DefaultValueFactory = _ => [256, 512, 1024, 1536], AllowMultipleArgumentsPerToken = true };
        var count = new Option<int>("--questions") { Description = "Questions per length", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 1 };
        var askCount = new Option<int>("--ask") { Description = "Documents for the question-writing probe", DefaultValueFactory = _ => 20 };
        var style = FactStyleOption();
        var notes = NotesOption("Keyed records with a free-text note each, even if the model was trained without (how far reading carries to longer records)");
        var extra = ExtraNotesOption();
        var cmd = new Command("records-eval", "Exact match of a model on held-out records documents by length, with and without the document in context")
        {
            model, split, tokens, count, seed, threads, askCount, style, notes, extra,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(() =>
        {
            torch.set_num_threads(pr.GetValue(threads));
            var dir = pr.GetValue(model)!;
            var tokenizer = HfTokenizer.Load(dir);
            using var m = TransformerModel.Load(dir, torch.CPU, torch.ScalarType.Float32);
            var wording = ParseStyle(pr.GetValue(style), RecordsModelInfo.FactStyleOf(dir));
            var probe = new AccuracyProbe(tokenizer, RecordsModelInfo.GeneratorFor(dir, ParseSplit(pr.GetValue(split)!), pr.GetValue(seed), wording, pr.GetValue(notes), pr.GetValue(extra)));
            Console.WriteLine("| doc tokens (target) | prompt tokens (mean) | records | EM with doc | EM without doc | questions |");
            Console.WriteLine("|---|---|---|---|---|---|");
            var byKind = new List<(int Tokens, IReadOnlyDictionary<FactKind, double> ByKind)>();
            foreach (var t in pr.GetValue(tokens)!)
            {
                var r = probe.RunByTokens(m, t, pr.GetValue(count));
                Console.WriteLine($"| {t} | {r.MeanTokens:F0} | {r.Records} | {r.WithDocument:P1} | {r.WithoutDocument:P1} | {r.Questions} |");
                byKind.Add((t, r.ByKind!));
            }
            Console.WriteLine($"\nwith the document, by fact kind:\n\n| kind | {string.Join(" | ", byKind.Select(b => b.Tokens))} |\n|---|{string.Concat(byKind.Select(_ => "---|"))}");
            foreach (var kind in Enum.GetValues<FactKind>().Where(k => byKind.Any(b => b.ByKind.ContainsKey(k))))
                Console.WriteLine($"| {kind} | {string.Join(" | ", byKind.Select(b => b.ByKind.TryGetValue(kind, out var v) ? v.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "–"))} |");
            if (probe.Style.IsKeyed())
            {
                // The drills: the document then every fact restated, values predicted — reading without a question's wording.
                var builder = new SequenceBuilder(tokenizer, RecordsModelInfo.RecipeOf(dir) is { } trained && trained.Facts == wording ? trained : PretrainRecipe.Keyed);
                Console.WriteLine("\nrecall drills (values restated after the document), by fact kind and records per document:\n");
                var sizes = new[] { 1, 2, 5, 10 };
                var drills = sizes.Select(r => probe.DrillExactMatch(m, builder, r, 8)).ToList();
                Console.WriteLine($"| kind | {string.Join(" | ", sizes.Select(r => $"{r} rec"))} |\n|---|{string.Concat(sizes.Select(_ => "---|"))}");
                // Only the kinds the model's documents state (a narrowed recipe has one or a few).
                foreach (var kind in Enum.GetValues<FactKind>().Where(k => drills.Any(d => d.ContainsKey(k))))
                    Console.WriteLine($"| {kind} | {string.Join(" | ", drills.Select(d => d.TryGetValue(kind, out var v) ? v.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "–"))} |");
            }
            var asking = new QuestionWritingProbe(tokenizer, RecordsModelInfo.GeneratorFor(dir, RecordSplit.HeldOut, pr.GetValue(seed), wording, pr.GetValue(notes)));
            var (valid, example) = asking.Run(m, records: 4, count: pr.GetValue(askCount));
            Console.WriteLine($"\nparticipant A (write a question about the document, self-study seed prompts): {valid:P1} valid questions about a patient of the document; e.g. \"{example}\"");
            return Task.FromResult(0);
        }));
        return cmd;
    }

    static Option<bool> NotesOption(string description) => new("--notes") { Description = description };

    static Option<double> ExtraNotesOption() =>
        new("--extra-notes") { Description = "Share of keyed records (with notes) given a second note: longer documents at the same patients (the demo's document has 0.1)" };

    static FactKind[] ParseKinds(IEnumerable<string> names) =>
        [.. names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(n =>
            Enum.TryParse<FactKind>(n, ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(n, out _)
                ? k
                : throw new ArgumentException($"unknown fact kind '{n}' (known: {string.Join(", ", Enum.GetNames<FactKind>())})"))];

    /// <summary>`model pretrain`.</summary>
    public static Command Pretrain()
    {
        var recipe = new Option<string>("--recipe") { Description = "records, keyed (one-token keys, gated curriculum) or tiny (a smoke run)", DefaultValueFactory = _ => "records" };
        var output = new Option<string>("--out") { Description = "Output model directory (checkpoint/ inside resumes the run)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --out" };
        var seed = new Option<int?>("--seed") { Description = "Seed of initialisation and data (default: the recipe's)" };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps (default: the recipe's)" };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate" };
        var tokensPerStep = new Option<int?>("--tokens-per-step") { Description = "Tokens per optimizer step" };
        var maxRecords = new Option<int?>("--max-records") { Description = "Records per document at the end of the curriculum" };
        var threads = new Option<int?>("--threads") { Description = "Torch threads (default 1)" };
        var perRecord = new Option<double?>("--questions-per-record") { Description = "Questions per record in each training conversation (plus four)" };
        var contextWeight = new Option<float?>("--context-weight") { Description = "Loss weight of non-answer tokens" };
        var copies = new Option<int?>("--copy-sequences") { Description = "Random-word repeat sequences per step (induction-head scaffold)" };
        var device = new Option<string>("--device") { Description = "cpu (default) or cuda[:N] (fp32 training either way)", DefaultValueFactory = _ => "cpu" };
        var style = FactStyleOption();
        var hidden = new Option<int?>("--hidden") { Description = "Hidden size (heads keep their count; head size = hidden / heads)" };
        var layers = new Option<int?>("--layers") { Description = "Decoder layers" };
        var heads = new Option<int?>("--heads") { Description = "Attention heads (as many key/value heads)" };
        var gate = new Option<double?>("--gate") { Description = "Gated curriculum: grow documents by one record when exact match at the current size reaches this share (0 = fixed ramp)" };
        var startRecords = new Option<int?>("--start-records") { Description = "Records per document at the start of the curriculum" };
        var probeEvery = new Option<int?>("--probe-every") { Description = "Steps between accuracy probes" };
        var maxPositions = new Option<int?>("--max-positions") { Description = "Longest sequence the model supports (its context)" };
        var init = new Option<string?>("--init") { Description = "Start from the weights of another run's output directory (a staged run; same model size)" };
        var drill = new Option<double?>("--drill-share") { Description = "Share of documents given as recall drills (facts restated, values predicted); keyed data only" };
        var facts = new Option<int?>("--facts-per-record") { Description = "Fact kinds stated per record, 1-9 (0 = all ten): 1 leaves only the surname to tell records apart (the binding stage)" };
        var ordered = new Option<double?>("--ordered-drills") { Description = "Share of drills restated in document order with every restated token predicted (a copy task that forms induction heads)" };
        var kinds = new Option<string[]>("--fact-kinds") { Description = $"Fact kinds documents draw from (default all): {string.Join(", ", Enum.GetNames<FactKind>())}", AllowMultipleArgumentsPerToken = true };
        var floor = new Option<int?>("--records-floor") { Description = "Fewest records per training document (default: half the curriculum's ceiling)" };
        var noHeaders = new Option<bool>("--no-record-headers") { Description = "Keyed documents without the \"Patient X.\" header of each record (the surname then occurs only in its facts)" };
        var mixed = new Option<bool>("--mixed-sizes") { Description = "Every document of a step draws its own record count (default: one count per step)" };
        var replacement = new Option<bool>("--drills-with-replacement")
        {
            Description = "Drills restate facts drawn with replacement (only matching the name beats chance) instead of each fact once",
        };
        var growth = new Option<double?>("--gate-growth") { Description = "Share of the current ceiling a passed gate adds (default 0: one record)" };
        var notes = NotesOption("Keyed records with a free-text note each (no name, no value): longer documents, facts a small share of the text");
        var chunkShare = new Option<double?>("--chunk-share")
        {
            Description = "Share of chat documents given as self-study chunk conversations (a slice of the document; participant A asks about its whole facts); keyed data only",
        };
        var cmd = new Command("pretrain", "Train a small Llama from scratch on records documents (full-parameter, this runtime), resumable")
        {
            recipe, output, resume, seed, steps, lr, tokensPerStep, maxRecords, threads, perRecord, contextWeight, copies, device, style,
            hidden, layers, heads, gate, startRecords, probeEvery, drill, init, maxPositions, facts, ordered, kinds, floor, noHeaders, mixed, replacement, growth, notes, chunkShare,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(() =>
        {
            var r = PretrainRecipe.Named(pr.GetValue(recipe)!);
            r = r with
            {
                Seed = pr.GetValue(seed) ?? r.Seed,
                Steps = pr.GetValue(steps) ?? r.Steps,
                LearningRate = pr.GetValue(lr) ?? r.LearningRate,
                TokensPerStep = pr.GetValue(tokensPerStep) ?? r.TokensPerStep,
                MaxRecords = pr.GetValue(maxRecords) ?? r.MaxRecords,
                Threads = pr.GetValue(threads) ?? r.Threads,
                QuestionsPerRecord = pr.GetValue(perRecord) ?? r.QuestionsPerRecord,
                ContextLossWeight = pr.GetValue(contextWeight) ?? r.ContextLossWeight,
                CopySequencesPerStep = pr.GetValue(copies) ?? r.CopySequencesPerStep,
                Facts = ParseStyle(pr.GetValue(style), r.Facts),
                Hidden = pr.GetValue(hidden) ?? r.Hidden,
                Intermediate = pr.GetValue(hidden) is { } h ? 3 * h : r.Intermediate,
                Layers = pr.GetValue(layers) ?? r.Layers,
                Heads = pr.GetValue(heads) ?? r.Heads,
                KvHeads = pr.GetValue(heads) ?? r.KvHeads,
                CurriculumGate = pr.GetValue(gate) ?? r.CurriculumGate,
                StartRecords = pr.GetValue(startRecords) ?? r.StartRecords,
                ProbeEvery = pr.GetValue(probeEvery) ?? r.ProbeEvery,
                DrillShare = pr.GetValue(drill) ?? r.DrillShare,
                MaxPositions = pr.GetValue(maxPositions) ?? r.MaxPositions,
                FactsPerRecord = pr.GetValue(facts) ?? r.FactsPerRecord,
                OrderedDrillShare = pr.GetValue(ordered) ?? r.OrderedDrillShare,
                FactKinds = pr.GetValue(kinds) is { Length: > 0 } named ? ParseKinds(named) : r.FactKinds,
                RecordsFloor = pr.GetValue(floor) ?? r.RecordsFloor,
                NoRecordHeaders = pr.GetValue(noHeaders) || r.NoRecordHeaders,
                MixedSizes = pr.GetValue(mixed) || r.MixedSizes,
                DrillsWithReplacement = pr.GetValue(replacement) || r.DrillsWithReplacement,
                GateGrowth = pr.GetValue(growth) ?? r.GateGrowth,
                KeyedNotes = pr.GetValue(notes) || r.KeyedNotes,
                ChunkShare = pr.GetValue(chunkShare) ?? r.ChunkShare,
            };
            if (r.ChunkShare is < 0 or > 1) throw new ArgumentException($"--chunk-share must be in [0, 1] (got {r.ChunkShare}).");
            if (r.ChunkShare > 0 && !r.Facts.IsKeyed()) throw new ArgumentException($"--chunk-share needs a keyed wording (got {r.Facts}).");
            if (r.KeyedNotes && !r.Facts.IsKeyed()) throw new ArgumentException($"--notes needs a keyed wording (the {r.Facts} wording always has its notes).");
            if (r.GateGrowth is < 0 or > 4) throw new ArgumentException($"--gate-growth must be in [0, 4] (got {r.GateGrowth}).");
            if (r.NoRecordHeaders && !r.Facts.IsKeyed()) throw new ArgumentException($"--no-record-headers needs a keyed wording (the {r.Facts} wording names the patient in the header).");
            if (r.RecordsFloor < 0) throw new ArgumentException($"--records-floor must be at least 0 (got {r.RecordsFloor}).");
            if (r.OrderedDrillShare is < 0 or > 1) throw new ArgumentException($"--ordered-drills must be in [0, 1] (got {r.OrderedDrillShare}).");
            var loss = new Pretrainer(r, pr.GetValue(output)!, Console.WriteLine, torch.device(pr.GetValue(device)!), pr.GetValue(init)).Run(pr.GetValue(resume), cancel: ct);
            Console.WriteLine($"done: last loss {loss:F4}; model in {Path.GetFullPath(pr.GetValue(output)!)}");
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
