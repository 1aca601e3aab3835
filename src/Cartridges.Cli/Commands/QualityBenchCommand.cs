// `cartridges bench quality`: accuracy vs KV memory vs throughput of in-context learning, truncation, self-study
// cartridges, next-token cartridges, untrained cartridges and composition on held-out records documents
// (issue 6). Prints a markdown table and the p = n/8 headline; writes JSON (--json) and a PNG plot (--plot).
using System.CommandLine;
using System.Diagnostics;
using Cartridges.ProvingGround.Bench;
using Cartridges.ProvingGround.Pretraining;

namespace Cartridges.Cli.Commands;

/// <summary>The `bench quality` command.</summary>
internal static class QualityBenchCommand
{
    /// <summary>Where the shipped records model lives in a clone.</summary>
    public const string DefaultModel = "models/records-small";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A records model directory", DefaultValueFactory = _ => DefaultModel };
        var quick = new Option<bool>("--quick") { Description = "One length (1,024), two documents, p ∈ {n/16, n/8}, self-study on chunks of a few records: minutes on 2 cores" };
        var lengths = new Option<int[]>("--lengths") { Description = "Document lengths n in tokens", AllowMultipleArgumentsPerToken = true };
        var fractions = new Option<int[]>("--fractions") { Description = "p = n / fraction", AllowMultipleArgumentsPerToken = true };
        var documents = new Option<int?>("--documents") { Description = "Held-out documents per length" };
        var questions = new Option<int?>("--questions") { Description = "Questions per document" };
        var conversations = new Option<int?>("--conversations") { Description = "Self-study conversations per document" };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps per cartridge" };
        var temperature = new Option<float?>("--question-temperature") { Description = "Participant A's sampling temperature (paper: 0.6)" };
        var perChunk = new Option<int?>("--conversations-per-chunk") { Description = "Self-study conversations sharing one chunk (default 32)" };
        var chunkTokens = new Option<int?>("--chunk-tokens") { Description = "Document tokens each self-study batch sees (0 = the whole document)" };
        var batch = new Option<int?>("--batch-size") { Description = "Conversations per optimizer step" };
        var lr = new Option<double?>("--lr") { Description = "Cartridge learning rate" };
        var users = new Option<int?>("--users") { Description = "Concurrent users of the throughput measurement" };
        var seed = new Option<int?>("--seed");
        var threads = new Option<int?>("--threads");
        var json = new Option<string?>("--json") { Description = "Write {\"rows\": [...]} here" };
        var plot = new Option<string?>("--plot") { Description = "Write the accuracy-vs-memory PNG here" };
        var style = ProvingGroundCommands.FactStyleOption();
        var joint = new Option<bool>("--joint") { Description = "Also train one cartridge of the composition's size on both documents of each pair together (row `joint`)" };
        var work = new Option<string?>("--work-dir") { Description = "Keep synthesized data and cartridges here (reused by a second run); default: a temp dir, deleted" };
        var cmd = new Command("quality", "Records QA: accuracy vs KV memory vs throughput of ICL, truncation, cartridges (self-study, next-token, untrained) and composition")
        {
            model, quick, lengths, fractions, documents, questions, conversations, steps, batch, lr, chunkTokens, perChunk, temperature, users, seed, threads, json, plot, work, style, joint,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var o = pr.GetValue(quick) ? QualityBenchOptions.Quick : new QualityBenchOptions();
            o = o with
            {
                Lengths = pr.GetValue(lengths) is { Length: > 0 } l ? l : o.Lengths,
                Fractions = pr.GetValue(fractions) is { Length: > 0 } f ? f : o.Fractions,
                Documents = pr.GetValue(documents) ?? o.Documents,
                QuestionsPerDocument = pr.GetValue(questions) ?? o.QuestionsPerDocument,
                Conversations = pr.GetValue(conversations) ?? o.Conversations,
                Steps = pr.GetValue(steps) ?? o.Steps,
                ChunkTokens = pr.GetValue(chunkTokens) ?? o.ChunkTokens,
                ConversationsPerChunk = pr.GetValue(perChunk) ?? o.ConversationsPerChunk,
                QuestionTemperature = pr.GetValue(temperature) ?? o.QuestionTemperature,
                BatchSize = pr.GetValue(batch) ?? o.BatchSize,
                LearningRate = pr.GetValue(lr) ?? o.LearningRate,
                Users = pr.GetValue(users) ?? o.Users,
                Seed = pr.GetValue(seed) ?? o.Seed,
                Threads = pr.GetValue(threads) ?? o.Threads,
                Facts = ProvingGroundCommands.ParseStyle(pr.GetValue(style), RecordsModelInfo.FactStyleOf(pr.GetValue(model)!)),
                Joint = pr.GetValue(joint) || o.Joint,
            };
            o.Validate();
            var dir = pr.GetValue(model)!;
            if (!File.Exists(Path.Combine(dir, "config.json")) || !File.Exists(Path.Combine(dir, "tokenizer.json")))
                throw new ArgumentException($"--model {dir}: not a model directory (config.json and tokenizer.json are needed); train one with `cartridges model pretrain --recipe records`.");
            var keep = pr.GetValue(work);
            var scratch = keep ?? Directory.CreateTempSubdirectory("cartridges-bench-quality-").FullName;
            Directory.CreateDirectory(scratch);
            try
            {
                var clock = Stopwatch.StartNew();
                var bench = new QualityBench(dir, o, scratch, line => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}"));
                var rows = await bench.RunAsync(ct);
                Console.WriteLine();
                Console.Write(QualityReport.Markdown(rows, o.Users));
                Console.WriteLine();
                foreach (var line in QualityReport.Headline(rows)) Console.WriteLine(line);
                if (pr.GetValue(json) is { } path) await File.WriteAllTextAsync(path, QualityReport.Json(rows, dir, o), ct);
                if (pr.GetValue(plot) is { } png) AccuracyPlot.Write(rows, png);
                Console.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min");
                return 0;
            }
            finally
            {
                if (keep is null)
                {
                    try
                    {
                        Directory.Delete(scratch, recursive: true);
                    }
                    catch (IOException)
                    {
                    }
                }
            }
        }));
        return cmd;
    }
}
