// What `cartridges tenant add <tenant> [--data DIR]` calls: it writes to the same store the silo reads, so no silo
// needs to run and a running one sees the new key at once.
using Microsoft.Extensions.Configuration;

namespace Cartridges.Silo.Tenants;

/// <summary>Creates tenants and their API keys from the CLI or code, without a running silo.</summary>
public static class TenantAdmin
{
    /// <summary>Adds <paramref name="tenant"/> (or a new key for it) to the Local profile's tenants file under <paramref name="dataDirectory"/>; returns the new key.</summary>
    public static Task<string> AddAsync(string dataDirectory, string tenant, TenantLimits? limits = null, CancellationToken cancellationToken = default) =>
        new FileTenantStore(TenantStores.DefaultFile(dataDirectory)).AddAsync(tenant, limits, cancellationToken);

    /// <summary>Adds <paramref name="tenant"/> to the store a silo with <paramref name="configuration"/> uses (file or PostgreSQL); returns the new key.</summary>
    public static Task<string> AddAsync(IConfiguration configuration, string tenant, TenantLimits? limits = null, CancellationToken cancellationToken = default) =>
        TenantStores.Create(configuration).AddAsync(tenant, limits, cancellationToken);

    /// <summary>The store of a data directory (Local profile) or, with a connection string, of the PostgreSQL database.</summary>
    public static ITenantStore Store(string dataDirectory, string? connectionString) =>
        connectionString is { Length: > 0 } ? new PostgresTenantStore(connectionString) : new FileTenantStore(TenantStores.DefaultFile(dataDirectory));
}
