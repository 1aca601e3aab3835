using Cartridges.Api.Tests.Support;
using Cartridges.Silo.Tenants;
using Cartridges.Storage.Database;
using Npgsql;

namespace Cartridges.Api.Tests.Tenants;

/// <summary>`tenant list` and `tenant revoke` on both stores: counts of live keys, revoked keys stop working at once here.</summary>
public sealed class TenantListRevokeTests : IAsyncLifetime
{
    FreshDatabase? _database;
    string _connection = "";
    readonly string _dir = Directory.CreateTempSubdirectory("tenants-revoke-").FullName;

    public async Task InitializeAsync()
    {
        _database = await FreshDatabase.CreateAsync("tenants");
        _connection = _database.ConnectionString;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task List_CountsLiveKeys_AndRevoke_StopsEveryKeyOfThatTenantOnly(bool postgres)
    {
        var store = TenantAdmin.Store(_dir, postgres ? _connection : null);
        Assert.Empty(await store.ListAsync());
        var a1 = await store.AddAsync("acme");
        var a2 = await store.AddAsync("acme", new TenantLimits { MaxCartridges = 2 });
        var g = await store.AddAsync("globex");
        Assert.Equal([("acme", 2), ("globex", 1)], (await store.ListAsync()).Select(t => (t.Name, t.Keys)));
        Assert.Equal(2, (await store.ListAsync())[0].Limits?.MaxCartridges);
        Assert.Equal("acme", (await store.FindByKeyAsync(a1))?.Name); // cached by the Postgres store: revoke must clear it

        Assert.Equal(2, await store.RevokeAsync("acme"));
        Assert.Null(await store.FindByKeyAsync(a1));
        Assert.Null(await store.FindByKeyAsync(a2));
        Assert.Equal("globex", (await store.FindByKeyAsync(g))?.Name);
        Assert.Equal([("acme", 0), ("globex", 1)], (await store.ListAsync()).Select(t => (t.Name, t.Keys)));
        // A fresh key for the tenant works; an unknown tenant is named.
        Assert.Equal("acme", (await store.FindByKeyAsync(await store.AddAsync("acme")))?.Name);
        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => store.RevokeAsync("initech"));
        Assert.Contains("'initech'", error.Message);
    }

    [Fact]
    public async Task Cli_AddListRevoke_OnADataDirectory()
    {
        var (code, output, error) = await Model.Tests.Support.CliProcess.RunAsync("tenant", "add", "acme", "--data", _dir);
        Assert.True(code == 0, error);
        (code, output, error) = await Model.Tests.Support.CliProcess.RunAsync("tenant", "list", "--data", _dir);
        Assert.True(code == 0, error);
        Assert.Matches(@"acme\s+1 key\b", output);
        (code, output, error) = await Model.Tests.Support.CliProcess.RunAsync("tenant", "revoke", "acme", "--data", _dir);
        Assert.True(code == 0, error);
        Assert.Contains("tenant acme: 1 key revoked", output);
        (code, _, error) = await Model.Tests.Support.CliProcess.RunAsync("tenant", "revoke", "nobody", "--data", _dir);
        Assert.Equal(1, code);
        Assert.Contains("There is no tenant 'nobody'", error);
    }

    public async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
