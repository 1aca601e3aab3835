using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Placement;
using Cartridges.Storage.Blobs;
using Xunit.Abstractions;

namespace Cartridges.Cluster.Tests.Serving;

/// <summary>Questions to many cartridges on one silo share decode batches, and batching changes no answer.</summary>
public sealed class ConcurrentAskTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SixteenConcurrentAsks_ToDifferentCartridges_AreBatched_AndEqualOneAtATime()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var corpus = ClusterHarness.Corpus("orchard-ledger.txt");
        var grains = Enumerable.Range(0, 16)
            .Select(i => harness.Client.GetGrain<ICartridgeGrain>(CartridgeKey.Of("acme", $"ledger-{i}")))
            .ToArray();
        // Different corpora (different slices) give different cartridges; tiny budgets keep training quick.
        await Task.WhenAll(grains.Select((g, i) => g.CreateAsync(ClusterHarness.TinySpec(corpus[(i * 300)..(i * 300 + 1500)], steps: 2, seed: (ulong)i) with
        {
            Synthesis = ClusterHarness.TinySpec("x").Synthesis with { Conversations = 4, Seed = (ulong)i },
        })));
        await Task.WhenAll(grains.Select(g => g.StartAsync()));
        await Task.WhenAll(grains.Select(g => ClusterHarness.WaitForServingAsync(g, TimeSpan.FromMinutes(5))));
        var blobs = await Task.WhenAll(grains.Select(g => g.GetServingBlobAsync()));
        Assert.Equal(16, blobs.Distinct().Count());

        var options = new AskOptions { MaxTokens = 24 };
        var questions = Enumerable.Range(0, 16).Select(i => $"What happened in year {1800 + i * 7}?").ToArray();
        var model = harness.Client.GetGrain<IModelGrain>(SiloKeyedPlacement.Key(harness.Cluster.Primary!.SiloAddress, "tiny"));
        var before = await model.GetStatsAsync();
        var together = await Task.WhenAll(grains.Select((g, i) => g.AskAsync(questions[i], options)));
        var after = await model.GetStatsAsync();

        // Mean batch over exactly the decode steps of these 16 questions (synthesis batches are excluded).
        var steps = after.DecodeSteps - before.DecodeSteps;
        var meanBatch = (double)(after.DecodeRows - before.DecodeRows) / steps;
        output.WriteLine($"16 asks: {steps} decode steps, mean batch {meanBatch:F2}; cartridges resident {after.Cartridges} ({after.CartridgeBytes} B), {after.TokensPerSecond:F0} tok/s");
        Assert.True(meanBatch > 1, $"the 16 questions were decoded {meanBatch:F2} per step");
        Assert.Equal(16, after.Cartridges);

        for (var i = 0; i < grains.Length; i++)
        {
            var alone = await grains[i].AskAsync(questions[i], options);
            Assert.Equal(alone.TokenIds, together[i].TokenIds);
        }

        // Composition: cartridge 0 followed by cartridge 1 answers like the runtime given both files in that order.
        var composed = await grains[0].AskAsync(questions[0], options with { ComposeWith = ["acme/ledger-1"] });
        Assert.Equal(32, composed.CartridgeTokens);
        var store = new FileBlobStore(Path.Combine(harness.DataDirectory, "blobs"));
        Assert.Equal(await RuntimeReference.AnswerAsync(ClusterHarness.ModelDirectory, store, [blobs[0], blobs[1]], questions[0], 24), composed.TokenIds);
    }
}
