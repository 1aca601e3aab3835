// `cartridges bench serve`: an embedded cluster serving N users, each on its own cartridge of p tokens, against the
// same N users each with its own n-token document in context (its KV cached once as a prefix: the best case for
// in-context learning, prefill excluded). Prints decode tok/s, resident KV bytes, p50/p99 latency, the throughput
// ratio at equal KV memory, and the Orleans overhead (AskAsync vs calling the engine directly).
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Cartridges.Abstractions;
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Cartridges.Model.Chat;
using Cartridges.Model.Engine;
using Cartridges.Model.Presets;
using Cartridges.Training.Cartridges;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using TorchSharp;

namespace Cartridges.Cli.Commands;

/// <summary>The `bench serve` command.</summary>
internal static class ServeBench
{
    sealed record Row(string Method, int Users, int TokensPerUser, long KvBytes, double TokensPerSecond, double P50Ms, double P99Ms, int Generated);

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model directory or Hugging Face id (default: a random 'small' model written to a temp dir)" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };
        var p = new Option<int>("--tokens") { Description = "Cartridge size p", DefaultValueFactory = _ => 64 };
        var n = new Option<int>("--doc-tokens") { Description = "Document length n for in-context users (n/p >= 16)", DefaultValueFactory = _ => 1024 };
        var users = new Option<string>("--users") { DefaultValueFactory = _ => "1,8,32" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens generated per user", DefaultValueFactory = _ => 32 };
        var json = new Option<string?>("--json") { Description = "Also write the rows as JSON" };
        var residency = new Option<string>("--residency")
        {
            Description = "N:M — N cartridges under a residency budget that holds M, each asked once (empty = skip)",
            DefaultValueFactory = _ => "256:64",
        };
        var trainingAsks = new Option<int>("--training-asks") { Description = "Asks timed idle and again while another cartridge trains on the silo (0 = skip)", DefaultValueFactory = _ => 8 };
        var cmd = new Command("serve", "Cluster serving: cartridges vs in-context documents at 1/8/32 concurrent users; Orleans overhead; asks during training; cartridges under a residency budget")
        {
            model, device, p, n, users, maxTokens, json, residency, trainingAsks,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var (P, N, M) = (pr.GetValue(p), pr.GetValue(n), pr.GetValue(maxTokens));
            if (P < 2 || N < 16 * P) throw new ArgumentException($"Need p >= 2 and n >= 16·p (got p={P}, n={N}).");
            var userCounts = pr.GetValue(users)!.Split(',').Select(int.Parse).ToArray();
            var scratch = Directory.CreateTempSubdirectory("cartridges-bench-serve-").FullName;
            try
            {
                var dir = pr.GetValue(model) is { } m ? await CliRunner.ResolveModelAsync(m, ct) : RandomSmall(scratch);
                await using var silo = await EmbeddedSilo.StartAsync(dir, Path.Combine(scratch, "data"), "default", pr.GetValue(device)!);
                var host = silo.Services.GetRequiredService<SiloEngineHost>();
                var loaded = await host.GetAsync("default");
                var config = loaded.Engine.Model.Config;
                if (N + 64 > config.MaxPositionEmbeddings) throw new ArgumentException($"n={N} does not fit the model's context of {config.MaxPositionEmbeddings}.");
                var kvPerToken = loaded.Engine.Model.KvBytesPerToken;
                var maxUsers = userCounts.Max();
                AnsiConsole.MarkupLine($"[bold]bench serve[/]: {config.Architectures[0]} d{config.HiddenSize}×{config.NumHiddenLayers}, p={P}, n={N} (n/p={N / P}), {M} tokens per user, KV {kvPerToken} B/token");

                // Users' documents: random token sequences (the model is untrained here; throughput does not depend on content).
                var rng = new Random(7);
                var docs = Enumerable.Range(0, maxUsers).Select(_ => Enumerable.Range(0, N).Select(_ => rng.Next(config.VocabSize)).ToArray()).ToArray();
                var cartridges = new ICartridgeGrain[maxUsers];
                for (var u = 0; u < maxUsers; u++)
                {
                    var file = Path.Combine(scratch, $"user{u}.safetensors");
                    var tokens = docs[u][..P];
                    await loaded.Engine.RunAsync(mm =>
                    {
                        using var c = CartridgeInitializer.FromTokens(mm, tokens);
                        CartridgeFile.Save(file, c, CartridgeMetadata.For("bench", mm.Config, c));
                        return 0;
                    });
                    cartridges[u] = silo.Grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of("bench", $"user-{u}"));
                    await cartridges[u].ImportAsync(new CartridgeSpec { BaseModel = "default", Corpus = $"user {u}", SizeTokens = P }, await File.ReadAllBytesAsync(file, ct));
                }
                for (var u = 0; u < maxUsers; u++) await loaded.Engine.RegisterPrefixFromTokensAsync($"doc-{u}", docs[u]);

                const string question = "Summarize the document in one paragraph.";
                var prompt = loaded.Template.Encode(loaded.Tokenizer, [new ChatMessage("user", question)], addGenerationPrompt: true, forCartridge: true);
                var ask = new AskOptions { MaxTokens = M };
                // Warm-up: first calls pay for activation, tensor registration and allocator growth.
                await Task.WhenAll(cartridges.Select(c => c.AskAsync(question, ask with { MaxTokens = 2 })));

                var rows = new List<Row>();
                // At equal KV memory, maxUsers cartridge users hold as much as this many in-context users.
                var budgetUsers = Math.Max(1, maxUsers * P / N);
                var iclCounts = userCounts.Append(budgetUsers).Distinct().Order().ToArray();
                foreach (var count in userCounts)
                    rows.Add(await MeasureAsync("cartridge", count, P, kvPerToken, u => cartridges[u].AskAsync(question, ask).ContinueWith(t => t.Result.CompletionTokens)));
                foreach (var count in iclCounts)
                    rows.Add(await MeasureAsync("icl", count, N, kvPerToken, async u => (await loaded.Engine.GenerateAsync(new GenerationRequest
                    {
                        Prompt = prompt,
                        PrefixIds = [$"doc-{u}"],
                        Sampling = new SamplingParams { MaxTokens = M, StopTokens = loaded.StopTokens },
                    })).Tokens.Count));

                var table = new Table().AddColumns("method", "users", "KV tokens/user", "resident KV", "decode tok/s", "p50 ms", "p99 ms");
                foreach (var r in rows)
                    table.AddRow(r.Method, r.Users.ToString(), r.TokensPerUser.ToString(), $"{r.KvBytes / 1048576.0:F1} MiB", $"{r.TokensPerSecond:F1}", $"{r.P50Ms:F0}", $"{r.P99Ms:F0}");
                AnsiConsole.Write(table);
                foreach (var count in userCounts)
                {
                    var c = rows.Single(r => r.Method == "cartridge" && r.Users == count);
                    var same = rows.Single(r => r.Method == "icl" && r.Users == count);
                    AnsiConsole.MarkupLine($"{count,3} users: cartridge/ICL throughput {c.TokensPerSecond / same.TokensPerSecond:F2}× at equal users, KV {(double)same.KvBytes / c.KvBytes:F0}× smaller");
                }
                var best = rows.Single(r => r.Method == "cartridge" && r.Users == maxUsers);
                var budgetIcl = rows.Single(r => r.Method == "icl" && r.Users == budgetUsers);
                AnsiConsole.MarkupLine($"equal KV budget ({best.KvBytes / 1048576.0:F1} MiB = {maxUsers}×p ≈ {budgetUsers}×n): cartridges serve {maxUsers} users at {best.TokensPerSecond:F1} tok/s, " +
                                       $"in-context {budgetUsers} user(s) at {budgetIcl.TokensPerSecond:F1} tok/s → [bold]{best.TokensPerSecond / budgetIcl.TokensPerSecond:F2}×[/]");

                // Orleans overhead: the same single request through the grain and straight to the engine.
                var blob = (await cartridges[0].GetStatusAsync()).CartridgeBlob!;
                var grainMs = new List<double>();
                var engineMs = new List<double>();
                for (var i = 0; i < 5; i++)
                {
                    var sw = Stopwatch.StartNew();
                    await cartridges[0].AskAsync(question, ask);
                    grainMs.Add(sw.Elapsed.TotalMilliseconds);
                    sw.Restart();
                    await loaded.Engine.GenerateAsync(new GenerationRequest
                    {
                        Prompt = prompt,
                        PrefixIds = [SiloEngineHost.PrefixId(blob)],
                        Sampling = new SamplingParams { MaxTokens = M, StopTokens = loaded.StopTokens },
                    });
                    engineMs.Add(sw.Elapsed.TotalMilliseconds);
                }
                var (g, e) = (Percentiles.Of(grainMs, 0.5), Percentiles.Of(engineMs, 0.5));
                AnsiConsole.MarkupLine($"Orleans overhead: AskAsync median {g:F1} ms vs engine directly {e:F1} ms → {g - e:F1} ms ({(g - e) / e * 100:F1}%) per request");

                var training = pr.GetValue(trainingAsks) > 0
                    ? await TrainingInterferenceBench.RunAsync(silo.Grains, cartridges[0], question, ask, P, pr.GetValue(trainingAsks), ct)
                    : null;

                ResidencyBench.Result? resident = null;
                if (pr.GetValue(residency) is { Length: > 0 } spec)
                {
                    var parts = spec.Split(':');
                    if (parts.Length != 2 || !int.TryParse(parts[0], out var total) || !int.TryParse(parts[1], out var fits) || fits < 1 || total < fits)
                        throw new ArgumentException($"--residency must be N:M with N >= M >= 1 (got '{spec}').");
                    resident = await ResidencyBench.RunAsync(dir, scratch, pr.GetValue(device)!, total, fits, P, Math.Min(M, 8), concurrency: 8, ct);
                }

                if (pr.GetValue(json) is { } path)
                    await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { p = P, n = N, max_tokens = M, rows, orleans_overhead_ms = g - e, ask_ms = g, engine_ms = e, training, residency = resident },
                        new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }), ct);
                return 0;
            }
            finally
            {
                try
                {
                    Directory.Delete(scratch, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }));
        return cmd;
    }

    static string RandomSmall(string scratch)
    {
        var dir = Path.Combine(scratch, "model");
        RandomModelWriter.Create(dir, Cartridges.Model.Config.ModelFamily.Llama, "small", 1, torch.ScalarType.Float32);
        return dir;
    }

    static async Task<Row> MeasureAsync(string method, int users, int tokensPerUser, long kvPerToken, Func<int, Task<int>> request)
    {
        var latencies = new double[users];
        var clock = Stopwatch.StartNew();
        var generated = await Task.WhenAll(Enumerable.Range(0, users).Select(async u =>
        {
            var sw = Stopwatch.StartNew();
            var count = await request(u);
            latencies[u] = sw.Elapsed.TotalMilliseconds;
            return count;
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        return new Row(method, users, tokensPerUser, users * tokensPerUser * kvPerToken, generated.Sum() / seconds,
            Percentiles.Of(latencies, 0.5), Percentiles.Of(latencies, 0.99), generated.Sum());
    }
}
