// The per-tenant cartridge index behind GET /v1/cartridges and the quota checks of POST /v1/cartridges. State is
// tiny (names and byte counts) and lives in the cluster's grain storage (files in Local, PostgreSQL in Postgres).
using Cartridges.Abstractions;
using Cartridges.Storage;

namespace Cartridges.Silo.Tenants;

/// <summary>Implements <see cref="ITenantGrain"/> over persistent grain state.</summary>
public sealed class TenantGrain([PersistentState("tenant", StorageNames.Cartridges)] IPersistentState<TenantRecord> record)
    : Grain, ITenantGrain, ITenantStateView
{
    Task<TenantRecord> ITenantStateView.GetState() => Task.FromResult(record.State);

    /// <inheritdoc />
    public async Task<TenantReservation> ReserveAsync(string name, long corpusBytes, TenantQuota quota)
    {
        var cartridges = record.State.Cartridges;
        if (cartridges.ContainsKey(name)) return TenantReservation.Exists;
        if (cartridges.Count >= quota.MaxCartridges) return TenantReservation.TooManyCartridges;
        if (cartridges.Values.Sum() + corpusBytes > quota.MaxCorpusBytes) return TenantReservation.CorpusQuotaExceeded;
        cartridges[name] = corpusBytes;
        await record.WriteStateAsync();
        return TenantReservation.Reserved;
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(string name)
    {
        if (record.State.Cartridges.Remove(name)) await record.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. record.State.Cartridges.Keys.Order(StringComparer.Ordinal)]);
}

/// <summary>The persisted state of a <see cref="TenantGrain"/>: cartridge name → corpus bytes.</summary>
[GenerateSerializer]
public sealed class TenantRecord
{
    /// <summary>Cartridge name → corpus bytes it holds.</summary>
    [Id(0)] public Dictionary<string, long> Cartridges { get; set; } = new(StringComparer.Ordinal);
}
