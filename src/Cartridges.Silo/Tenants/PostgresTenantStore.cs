// Tenants of the Postgres profile, shared by every silo: two small tables next to the Orleans schema, created on
// first use (IF NOT EXISTS) so the API does not depend on a migration step. Found keys are cached per silo for a
// minute; unknown keys are not cached, so a key added by the CLI works at once.
using System.Collections.Concurrent;
using System.Text.Json;
using Cartridges.Abstractions;
using Npgsql;

namespace Cartridges.Silo.Tenants;

/// <summary>An <see cref="ITenantStore"/> over PostgreSQL tables <c>cartridges_tenants</c> and <c>cartridges_api_keys</c>.</summary>
public sealed class PostgresTenantStore(string connectionString) : ITenantStore
{
    // The advisory lock keeps two silos starting together from racing on CREATE TABLE IF NOT EXISTS.
    const string Schema = """
        SELECT pg_advisory_xact_lock(7305001);
        CREATE TABLE IF NOT EXISTS cartridges_tenants (
            tenant text PRIMARY KEY,
            limits jsonb,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS cartridges_api_keys (
            key_sha256 text PRIMARY KEY,
            tenant text NOT NULL REFERENCES cartridges_tenants(tenant),
            created_at timestamptz NOT NULL DEFAULT now());
        """;

    static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);
    readonly ConcurrentDictionary<string, (TenantInfo Tenant, DateTime Until)> _found = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _schemaLock = new(1, 1);
    volatile bool _schemaReady;

    /// <inheritdoc />
    public async ValueTask<TenantInfo?> FindByKeyAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        var hash = ApiKeys.Hash(apiKey);
        if (_found.TryGetValue(hash, out var hit) && hit.Until > DateTime.UtcNow) return hit.Tenant;
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT t.tenant, t.limits::text FROM cartridges_api_keys k JOIN cartridges_tenants t USING (tenant) WHERE k.key_sha256 = @hash",
            connection);
        command.Parameters.AddWithValue("hash", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var limits = reader.IsDBNull(1) ? null : JsonSerializer.Deserialize<TenantLimits>(reader.GetString(1), TenantJson.Options);
        var tenant = new TenantInfo(reader.GetString(0), limits);
        _found[hash] = (tenant, DateTime.UtcNow + CacheFor);
        return tenant;
    }

    /// <inheritdoc />
    public async Task<string> AddAsync(string tenant, TenantLimits? limits = null, CancellationToken cancellationToken = default)
    {
        if (CartridgeKey.Problem(tenant, "tenant") is { } problem) throw new ArgumentException(problem, nameof(tenant));
        var key = ApiKeys.NewKey();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = new NpgsqlCommand(
            "INSERT INTO cartridges_tenants (tenant, limits) VALUES (@tenant, @limits::jsonb) " +
            "ON CONFLICT (tenant) DO UPDATE SET limits = COALESCE(EXCLUDED.limits, cartridges_tenants.limits)", connection, transaction))
        {
            upsert.Parameters.AddWithValue("tenant", tenant);
            upsert.Parameters.AddWithValue("limits", limits is null ? DBNull.Value : JsonSerializer.Serialize(limits, TenantJson.Options));
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var insert = new NpgsqlCommand("INSERT INTO cartridges_api_keys (key_sha256, tenant) VALUES (@hash, @tenant)", connection, transaction))
        {
            insert.Parameters.AddWithValue("hash", ApiKeys.Hash(key));
            insert.Parameters.AddWithValue("tenant", tenant);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return key;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TenantSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT t.tenant, count(k.key_sha256)::int, t.created_at, t.limits::text FROM cartridges_tenants t " +
            "LEFT JOIN cartridges_api_keys k USING (tenant) GROUP BY t.tenant, t.created_at, t.limits::text ORDER BY t.tenant", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<TenantSummary>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var limits = reader.IsDBNull(3) ? null : JsonSerializer.Deserialize<TenantLimits>(reader.GetString(3), TenantJson.Options);
            result.Add(new TenantSummary(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2), limits));
        }
        return result;
    }

    /// <inheritdoc />
    /// <remarks>Silos cache a key they found for up to a minute, so a revoked key may work that long on a silo that used it.</remarks>
    public async Task<int> RevokeAsync(string tenant, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM cartridges_tenants WHERE tenant = @tenant FOR UPDATE", connection, transaction))
        {
            exists.Parameters.AddWithValue("tenant", tenant);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null) throw new KeyNotFoundException($"There is no tenant '{tenant}' in the database.");
        }
        int revoked;
        await using (var delete = new NpgsqlCommand("DELETE FROM cartridges_api_keys WHERE tenant = @tenant", connection, transaction))
        {
            delete.Parameters.AddWithValue("tenant", tenant);
            revoked = await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        // This silo forgets them at once; others within their cache minute.
        foreach (var (hash, hit) in _found) if (hit.Tenant.Name == tenant) _found.TryRemove(hash, out _);
        return revoked;
    }

    async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        if (_schemaReady) return connection;
        await _schemaLock.WaitAsync(cancellationToken);
        try
        {
            if (!_schemaReady)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var command = new NpgsqlCommand(Schema, connection, transaction)) await command.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                _schemaReady = true;
            }
        }
        finally
        {
            _schemaLock.Release();
        }
        return connection;
    }
}
