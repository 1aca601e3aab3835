using System.Net;
using Cartridges.Api.Tests.Support;
using Cartridges.Silo.Tenants;

namespace Cartridges.Api.Tests.Tenants;

/// <summary>TenantAdmin / the file store: hashes only on disk, keys added while the silo runs work at once, bad tenant names refused.</summary>
[Collection(ApiCollection.Name)]
public sealed class TenantStoreTests(ApiHost host)
{
    [Fact]
    public async Task KeyAddedWhileRunning_WorksAtOnce_AndOnlyItsHashIsStored()
    {
        var key = await TenantAdmin.AddAsync(host.DataDirectory, "late");
        Assert.StartsWith(ApiKeys.Prefix, key);
        var file = await File.ReadAllTextAsync(TenantStores.DefaultFile(host.DataDirectory));
        Assert.DoesNotContain(key, file);
        Assert.DoesNotContain(host.AcmeKey, file);
        Assert.Contains(ApiKeys.Hash(key), file);

        using var http = host.Http(key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/cartridges")).StatusCode);
        Assert.Empty(await ApiAssert.ListAsync(http));

        // A second key for the same tenant (rotation): both work.
        var second = await TenantAdmin.AddAsync(host.DataDirectory, "late");
        Assert.NotEqual(key, second);
        Assert.Equal("late", (await new FileTenantStore(TenantStores.DefaultFile(host.DataDirectory)).FindByKeyAsync(key))?.Name);
        Assert.Equal("late", (await new FileTenantStore(TenantStores.DefaultFile(host.DataDirectory)).FindByKeyAsync(second))?.Name);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("Acme")]
    [InlineData("")]
    public async Task BadTenantNames_Refused(string tenant) =>
        await Assert.ThrowsAsync<ArgumentException>(() => TenantAdmin.AddAsync(host.DataDirectory, tenant));
}
