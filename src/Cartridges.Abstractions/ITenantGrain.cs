// A tenant's cartridge index and quota (key: the tenant name). Cartridge grains cannot be listed cheaply, and quota
// checks must be atomic across silos, so one grain per tenant owns both: it is single-threaded, so two silos
// creating cartridges for the same tenant at once cannot both pass the limit.
namespace Cartridges.Abstractions;

/// <summary>One tenant's index of cartridge names with the corpus bytes each holds, and its quota checks.</summary>
public interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>Reserves <paramref name="name"/> with <paramref name="corpusBytes"/> under <paramref name="quota"/>; an existing name is reported, not counted twice.</summary>
    Task<TenantReservation> ReserveAsync(string name, long corpusBytes, TenantQuota quota);

    /// <summary>Removes <paramref name="name"/> from the index (no-op when absent).</summary>
    Task ReleaseAsync(string name);

    /// <summary>The tenant's cartridge names, sorted.</summary>
    Task<IReadOnlyList<string>> ListAsync();
}

/// <summary>How many cartridges and corpus bytes a tenant may hold.</summary>
[GenerateSerializer, Immutable, Alias("Cartridges.TenantQuota")]
public sealed record TenantQuota([property: Id(0)] int MaxCartridges, [property: Id(1)] long MaxCorpusBytes);

/// <summary>The outcome of <see cref="ITenantGrain.ReserveAsync"/>.</summary>
public enum TenantReservation
{
    /// <summary>The name is new and now counted.</summary>
    Reserved = 0,
    /// <summary>The name was already indexed (idempotent create or a conflict; the cartridge grain decides).</summary>
    Exists = 1,
    /// <summary>The tenant already holds its maximum number of cartridges.</summary>
    TooManyCartridges = 2,
    /// <summary>The corpus would take the tenant over its corpus-bytes quota.</summary>
    CorpusQuotaExceeded = 3,
}
