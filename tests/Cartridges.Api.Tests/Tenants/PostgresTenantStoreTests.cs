// The Postgres profile's tenant store on a real server: the one .ci/run started (CARTRIDGES_TEST_POSTGRES), or a
// private throw-away one, each test run in a fresh database.
using Cartridges.Api.Tests.Support;
using Cartridges.Silo.Tenants;
using Cartridges.Storage.Database;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Cartridges.Api.Tests.Tenants;

/// <summary><see cref="PostgresTenantStore"/>: tables created on first use, hashes only, limits kept, shared by every silo's instance.</summary>
public sealed class PostgresTenantStoreTests : IAsyncLifetime
{
    FreshDatabase? _database;
    string _connection = "";

    public async Task InitializeAsync()
    {
        _database = await FreshDatabase.CreateAsync("tenants");
        _connection = _database.ConnectionString;
    }

    [Fact]
    public async Task AddThenFind_AcrossInstances_HashesOnly_LimitsKept()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cartridges:Profile"] = "Postgres",
            ["ConnectionStrings:Postgres"] = _connection,
        }).Build();
        Assert.IsType<PostgresTenantStore>(TenantStores.Create(config));

        var key = await TenantAdmin.AddAsync(config, "acme", new TenantLimits { MaxCartridges = 3 });
        var rotated = await TenantAdmin.AddAsync(config, "acme"); // no limits given: the stored ones stay
        var other = new PostgresTenantStore(_connection); // another silo
        foreach (var k in new[] { key, rotated })
        {
            var tenant = await other.FindByKeyAsync(k);
            Assert.Equal("acme", tenant?.Name);
            Assert.Equal(3, tenant?.Limits?.MaxCartridges);
        }
        Assert.Null(await other.FindByKeyAsync("ck-unknown"));
        await Assert.ThrowsAsync<ArgumentException>(() => other.AddAsync("../evil"));

        await using var connection = new NpgsqlConnection(_connection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(key_sha256, ',') FROM cartridges_api_keys", connection);
        var stored = (string)(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain(key, stored);
        Assert.Contains(ApiKeys.Hash(key), stored);
        Assert.Contains(ApiKeys.Hash(rotated), stored);
    }

    public async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}
