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

    /// <summary>Every tenant with its number of live keys, in name order.</summary>
    Task<IReadOnlyList<TenantSummary>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Revokes every key of <paramref name="tenant"/> (its cartridges stay; `add` gives it a new key); returns how many
    /// keys were revoked. Throws <see cref="KeyNotFoundException"/> for an unknown tenant.
    /// </summary>
    Task<int> RevokeAsync(string tenant, CancellationToken cancellationToken = default);
}

/// <summary>A tenant as `tenant list` shows it.</summary>
/// <param name="Name">Tenant name.</param>
/// <param name="Keys">Live API keys.</param>
/// <param name="CreatedAt">When the tenant was first added.</param>
/// <param name="Limits">Its limits, if set.</param>
public sealed record TenantSummary(string Name, int Keys, DateTimeOffset CreatedAt, TenantLimits? Limits);
