// End to end: a 2-silo cluster with clustering, grain storage and reminders all on PostgreSQL through deploy/sql.
using Cartridges.Storage.Hosting;
using Cartridges.Storage.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Cartridges.Storage.Tests.Orleans;

public sealed class PostgresClusterTests
{
    [Fact]
    public async Task Cluster_OnPostgres_PersistsStateAcrossDeactivationAndRestart_AndRunsReminders()
    {
        // An empty database: the silos migrate it themselves, both at once, under the advisory lock.
        var cs = await PostgresServer.CreateDatabaseAsync("orleans_e2e");
        var serviceId = $"svc-{Guid.NewGuid():N}"[..16];

        var first = await StartClusterAsync(cs, serviceId, $"c1-{Guid.NewGuid():N}"[..12]);
        try
        {
            var counter = first.Client.GetGrain<ICounterGrain>("tenant/counter");
            Assert.Equal(1, await counter.IncrementAsync());
            Assert.Equal(2, await counter.IncrementAsync());
            await counter.DeactivateAsync();
            Assert.Equal(2, await counter.GetAsync());

            var note = first.Client.GetGrain<INoteGrain>("tenant/note");
            await note.SetAsync("kept in the default storage");

            var active = await Sql.ScalarAsync<long>(cs,
                "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @c AND Status = 3", ("c", first.Options.ClusterId));
            Assert.Equal(2, active);
            var stored = await Sql.ScalarAsync<long>(cs,
                "SELECT count(*) FROM OrleansStorage WHERE ServiceId = @s AND GrainTypeString IN ('counter', 'note')", ("s", serviceId));
            Assert.Equal(2, stored);

            await counter.StartTickingAsync(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
            Assert.True(await counter.IsTickingAsync());
            await WaitUntilAsync(async () => await counter.GetTicksAsync() >= 1, TimeSpan.FromSeconds(45));
        }
        finally
        {
            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }

        var second = await StartClusterAsync(cs, serviceId, $"c2-{Guid.NewGuid():N}"[..12]);
        try
        {
            var counter = second.Client.GetGrain<ICounterGrain>("tenant/counter");
            Assert.Equal(2, await counter.GetAsync());
            Assert.True(await counter.GetTicksAsync() >= 1);
            Assert.True(await counter.IsTickingAsync());
            Assert.Equal(3, await counter.IncrementAsync());
            await counter.StopTickingAsync();
            Assert.False(await counter.IsTickingAsync());
            Assert.Equal("kept in the default storage", await second.Client.GetGrain<INoteGrain>("tenant/note").GetAsync());

            // The first cluster's silos left as Dead rows; the cleanup query removes them once old enough.
            var dead = await Sql.ScalarAsync<long>(cs,
                "SELECT count(*) FROM OrleansMembershipTable WHERE Status = 6 AND DeploymentId <> @c", ("c", second.Options.ClusterId));
            Assert.Equal(2, dead);
            var table = ((InProcessSiloHandle)second.Silos[0]).SiloHost.Services.GetRequiredService<IMembershipTable>();
            await Sql.ExecuteAsync(cs,
                "INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime) " +
                "VALUES (@c, '10.9.9.9', 1, 1, 'gone', 'gone', 6, 0, now() - interval '2 days', now() - interval '2 days')",
                ("c", second.Options.ClusterId));
            await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(-1), CancellationToken.None);
            Assert.Equal(0, await Sql.ScalarAsync<long>(cs,
                "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @c AND Status = 6", ("c", second.Options.ClusterId)));
            Assert.Equal(2, await Sql.ScalarAsync<long>(cs,
                "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @c AND Status = 3", ("c", second.Options.ClusterId)));
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    private static async Task<TestCluster> StartClusterAsync(string cs, string serviceId, string clusterId)
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ServiceId = serviceId;
        builder.Options.ClusterId = clusterId;
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[PostgresSilo.ConnectionStringKey] = cs;
        builder.AddSiloBuilderConfigurator<PostgresSilo>();
        builder.AddClientBuilderConfigurator<PostgresClient>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeout}");
            await Task.Delay(250);
        }
    }

    private sealed class PostgresSilo : ISiloConfigurator
    {
        public const string ConnectionStringKey = "CartridgesTests:Postgres";

        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.UseCartridgesPostgres(siloBuilder.Configuration[ConnectionStringKey]!);
            siloBuilder.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        }
    }

    private sealed class PostgresClient : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseCartridgesPostgresClustering(configuration[PostgresSilo.ConnectionStringKey]!);
    }
}
