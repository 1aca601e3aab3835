using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Cartridges.Cluster.Tests.Lifecycle;

/// <summary>Errors that reach callers name no server directories and no .NET types.</summary>
public sealed class ErrorTextTests
{
    [Fact]
    public void Scrub_ReplacesTheSilosDirectories_LongestFirst_AndLeavesOtherTextAlone()
    {
        var data = Path.Combine(Path.GetTempPath(), "srv-data");
        var options = Options.Create(new CartridgesOptions
        {
            WorkDirectory = Path.Combine(data, "work"),
            Models = { ["tiny"] = "/opt/models/tiny", ["hub"] = "meta-llama/Llama-3.2-1B-Instruct" },
        });
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Cartridges:DataDirectory"] = data }).Build();
        var paths = new ServerPaths(options, config);

        var text = paths.Scrub($"Could not find '{data}/work/S1/x.bin', '{data}/blobs/ab' or '/opt/models/tiny/config.json'; see POST /v1/cartridges/a/stop and meta-llama/Llama-3.2-1B-Instruct");

        Assert.Equal("Could not find '<work>/S1/x.bin', '<data>/blobs/ab' or '<model tiny>/config.json'; see POST /v1/cartridges/a/stop and meta-llama/Llama-3.2-1B-Instruct", text);
    }

    [Fact]
    public async Task AModelThatFailsToLoad_IsReportedWithoutServerPathsOrTypeNames()
    {
        var data = Directory.CreateTempSubdirectory("cartridges-errors-").FullName;
        try
        {
            var broken = Directory.CreateDirectory(Path.Combine(data, "models", "broken")).FullName; // no config.json in it
            await using var silo = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu",
                new Dictionary<string, string?> { ["Cartridges:Models:broken"] = broken });
            var spec = ClusterHarness.TinySpec(ClusterHarness.Corpus("lighthouse-chronicle.txt")[..2000]) with { BaseModel = "broken" };

            var e = await Assert.ThrowsAsync<CartridgeException>(() => silo.Grains.GetGrain<ICartridgeGrain>("local/broken").CreateAsync(spec));

            Assert.DoesNotContain(data, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", e.Message, StringComparison.Ordinal);
            Assert.Contains("<model broken>", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
