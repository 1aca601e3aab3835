using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Placement;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Cartridges.Cluster.Tests.Placement;

/// <summary>Cartridge, model and synthesis work only on accelerator silos; exactly one model grain per silo.</summary>
public sealed class PlacementTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OnlyAcceleratorSilosHostCartridgesAndModelGrains_OnePerSilo()
    {
        // The primary silo is a CPU-only gateway; the two secondaries are accelerator silos.
        await using var harness = await ClusterHarness.StartAsync(silos: 3, gpuSilos: "Secondary_1,Secondary_2");
        var hosts = await harness.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var primary = harness.Cluster.Primary!.SiloAddress;
        var accelerators = hosts.Keys.Where(s => !s.Equals(primary)).ToHashSet();
        Assert.Equal(2, accelerators.Count);

        var corpus = ClusterHarness.Corpus("orchard-ledger.txt")[..2000];
        var statuses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            harness.Client.GetGrain<ICartridgeGrain>(CartridgeKey.Of("tenant" + (i % 3), $"doc-{i}")).CreateAsync(ClusterHarness.TinySpec(corpus, seed: (ulong)i))));
        var bySilo = statuses.GroupBy(s => s.Silo!).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("cartridges per silo: " + string.Join(", ", bySilo.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.All(statuses, s => Assert.Contains(SiloAddress.FromParsableString(s.Silo!), accelerators));
        Assert.Equal(2, bySilo.Count); // most-free-memory placement spreads a burst over both accelerator silos

        // One model grain per accelerator silo, each placed on the silo its key names; none can live on the CPU silo.
        foreach (var silo in accelerators)
        {
            var stats = await harness.Client.GetGrain<IModelGrain>(SiloKeyedPlacement.Key(silo, "tiny")).GetStatsAsync();
            Assert.Equal(silo.ToParsableString(), stats.Silo);
            Assert.Equal(8L << 30, stats.DeviceMemoryBytes);
        }
        await Assert.ThrowsAnyAsync<Exception>(() => harness.Client.GetGrain<IModelGrain>(SiloKeyedPlacement.Key(primary, "tiny")).GetStatsAsync());

        var management = harness.Client.GetGrain<IManagementGrain>(0);
        var all = await management.GetDetailedGrainStatistics();
        var activations = all.Where(a => a.GrainType.Contains(nameof(Cartridges.Grains.Model.ModelGrain), StringComparison.Ordinal)).ToArray();
        var perSilo = activations.Where(a => a.GrainId.Key.ToString()!.EndsWith("|tiny", StringComparison.Ordinal))
            .GroupBy(a => a.SiloAddress).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("model grains per silo: " + string.Join(", ", perSilo.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.All(perSilo, kv => Assert.Equal(1, kv.Value));
        Assert.All(perSilo.Keys, s => Assert.Contains(s, accelerators));
        var cartridgeActivations = all.Where(a => a.GrainType.Contains(nameof(Cartridges.Grains.Cartridge.CartridgeGrain), StringComparison.Ordinal)).ToArray();
        Assert.Equal(24, cartridgeActivations.Length);
        Assert.All(cartridgeActivations, a => Assert.Contains(a.SiloAddress, accelerators));
    }
}
