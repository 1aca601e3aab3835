// `bench serve`'s residency part: many more cartridges than the silo's byte budget holds, each asked in turn (a few at a
// time, in random order), so most questions find their cartridge evicted and reload it from the blob store. Prints how
// many were answered, evictions and reloads, the resident peak against the budget, and ask latency.
using System.Diagnostics;
using Cartridges.Abstractions;
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Cartridges.Training.Cartridges;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Cartridges.Cli.Commands;

/// <summary>Cartridges under a residency budget.</summary>
internal static class ResidencyBench
{
    /// <summary>Figures of one run.</summary>
    public sealed record Result(int Cartridges, int Fits, long BudgetBytes, int Asked, int Answered, long Evictions, long Reloads, long PeakResidentBytes, double P50Ms, double P99Ms);

    public static async Task<Result> RunAsync(string modelDir, string scratch, string device, int cartridges, int fits, int p, int maxTokens, int concurrency, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cartridges, fits);
        // One cartridge's resident bytes, measured from a file the model makes, sets the budget before the silo starts.
        var files = new List<string>();
        long perCartridge = 0;
        {
            using var model = Model.Transformer.TransformerModel.Load(modelDir, Model.TorchRuntime.Parse(device));
            var rng = new Random(11);
            for (var i = 0; i < cartridges; i++)
            {
                var tokens = Enumerable.Range(0, p).Select(_ => rng.Next(model.Config.VocabSize)).ToArray();
                using var c = CartridgeInitializer.FromTokens(model, tokens);
                using (var prefix = c.ToServingPrefix()) perCartridge = prefix.Bytes;
                var file = Path.Combine(scratch, $"resident-{i}.safetensors");
                CartridgeFile.Save(file, c, CartridgeMetadata.For("bench", model.Config, c));
                files.Add(file);
            }
        }
        var budget = fits * perCartridge + perCartridge / 2;
        await using var silo = await EmbeddedSilo.StartAsync(modelDir, Path.Combine(scratch, "residency-data"), "default", device,
            new Dictionary<string, string?> { ["Cartridges:ResidentBudgetBytes"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var host = silo.Services.GetRequiredService<SiloEngineHost>();
        var grains = new ICartridgeGrain[cartridges];
        long peak = 0;
        for (var i = 0; i < cartridges; i++)
        {
            grains[i] = silo.Grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of("bench", $"resident-{i}"));
            await grains[i].ImportAsync(new CartridgeSpec { BaseModel = "default", Corpus = $"cartridge {i}", SizeTokens = p }, await File.ReadAllBytesAsync(files[i], ct));
            peak = Math.Max(peak, host.CartridgeBytes);
        }
        AnsiConsole.MarkupLine($"residency: {cartridges} cartridges of p={p} ({perCartridge / 1024.0:F0} KiB each) imported under a budget of {budget / 1048576.0:F1} MiB " +
                               $"(room for {fits}); {host.Evictions} evicted while importing");

        var order = Enumerable.Range(0, cartridges).OrderBy(_ => Random.Shared.Next()).ToArray();
        var latencies = new double[cartridges];
        var answered = 0;
        var evictionsBefore = host.Evictions;
        using var slots = new SemaphoreSlim(concurrency);
        var ask = new AskOptions { MaxTokens = maxTokens };
        await Task.WhenAll(order.Select(async (u, k) =>
        {
            await slots.WaitAsync(ct);
            try
            {
                var sw = Stopwatch.StartNew();
                var answer = await grains[u].AskAsync("What does the document say?", ask);
                latencies[k] = sw.Elapsed.TotalMilliseconds;
                if (answer.CompletionTokens > 0) Interlocked.Increment(ref answered);
                lock (latencies) peak = Math.Max(peak, host.CartridgeBytes);
            }
            finally
            {
                slots.Release();
            }
        }));
        var result = new Result(cartridges, fits, budget, cartridges, answered, host.Evictions - evictionsBefore, host.Reloads, peak,
            Percentiles.Of(latencies, 0.5), Percentiles.Of(latencies, 0.99));
        AnsiConsole.MarkupLine($"residency: {result.Answered}/{result.Asked} asks answered ({concurrency} at a time, random order); {result.Evictions} evictions and " +
                               $"{result.Reloads} reloads during the asks; resident cartridge peak {peak / 1048576.0:F1} MiB (budget {budget / 1048576.0:F1} MiB, " +
                               $"leased cartridges may exceed it); ask p50 {result.P50Ms:F0} ms, p99 {result.P99Ms:F0} ms");
        return result;
    }
}
