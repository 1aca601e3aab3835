// End to end: the Local profile (file grain storage + in-memory reminders) in a real silo, across a restart.
using Cartridges.Storage.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Cartridges.Storage.Tests.Orleans;

public sealed class LocalProfileTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"cartridges-local-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Silo_WithLocalProfile_KeepsStateInFilesAcrossRestart()
    {
        var serviceId = $"local-{Guid.NewGuid():N}"[..16];
        var first = await StartAsync(serviceId);
        try
        {
            var counter = first.Client.GetGrain<ICounterGrain>("tenant/name");
            Assert.Equal(1, await counter.IncrementAsync());
            await first.Client.GetGrain<INoteGrain>("tenant/note").SetAsync("default storage");
            await counter.StartTickingAsync(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5));
            Assert.True(await counter.IsTickingAsync());

            var services = ((InProcessSiloHandle)first.Silos[0]).SiloHost.Services;
            Assert.Same(
                services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Cartridges),
                services.GetRequiredKeyedService<IGrainStorage>("Default"));
            await counter.StopTickingAsync();
        }
        finally
        {
            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }

        Assert.Equal(2, Directory.GetFiles(Path.Combine(_dataDir, "grain-state")).Length);

        var second = await StartAsync(serviceId);
        try
        {
            Assert.Equal(2, await second.Client.GetGrain<ICounterGrain>("tenant/name").IncrementAsync());
            Assert.Equal("default storage", await second.Client.GetGrain<INoteGrain>("tenant/note").GetAsync());
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    private async Task<TestCluster> StartAsync(string serviceId)
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        builder.Properties[LocalSilo.DataDirKey] = _dataDir;
        builder.AddSiloBuilderConfigurator<LocalSilo>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class LocalSilo : ISiloConfigurator
    {
        public const string DataDirKey = "CartridgesTests:DataDir";

        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.UseCartridgesLocal(siloBuilder.Configuration[DataDirKey]!);
    }
}
