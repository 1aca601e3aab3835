// TestCluster silos run the product's own silo configuration (AddCartridges); the test only decides per silo
// (by its Orleans:Name) whether it is an accelerator silo, and points every silo at the tiny model.
using Cartridges.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Cartridges.Cluster.Tests.Support;

/// <summary>Configures each test silo like a real one, marking the silos listed in Test:GpuSilos as accelerators.</summary>
public sealed class ClusterSiloConfigurator : ISiloConfigurator
{
    /// <inheritdoc />
    public void Configure(ISiloBuilder silo)
    {
        var config = silo.Configuration;
        var name = config["Orleans:Name"] ?? "";
        var gpuSilos = (config["Test:GpuSilos"] ?? "*").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var gpu = gpuSilos.Contains("*") || gpuSilos.Contains(name);
        var overlay = new ConfigurationBuilder()
            .AddConfiguration(config)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Orleans:Metadata:gpu"] = gpu ? "true" : "false",
                ["Orleans:Metadata:device_memory_bytes"] = gpu ? (8L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture) : "0",
            })
            .Build();
        silo.AddCartridges(overlay);
        // Declare a killed silo dead within seconds, not the production default of tens of seconds.
        silo.Configure<Orleans.Configuration.ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
        });
    }
}
