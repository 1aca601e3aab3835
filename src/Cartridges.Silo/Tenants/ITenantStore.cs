namespace Cartridges.Silo.Tenants;

/// <summary>Tenants and the hashes of their API keys: a JSON file (Local profile) or a PostgreSQL table (Postgres).</summary>
public interface ITenantStore
{
    /// <summary>The tenant owning <paramref name="apiKey"/>, or null for an unknown key.</summary>
    ValueTask<TenantInfo?> FindByKeyAsync(string apiKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates <paramref name="tenant"/> (or adds a key to an existing one, e.g. for rotation), storing only the key's
    /// hash; returns the new key, which cannot be recovered later. Non-null <paramref name="limits"/> replace the tenant's.
    /// </summary>
    Task<string> AddAsync(string tenant, TenantLimits? limits = null, CancellationToken cancellationToken = default);
}
