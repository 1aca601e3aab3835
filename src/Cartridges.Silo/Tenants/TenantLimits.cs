// Per-tenant overrides of the API's default limits (Cartridges:Api); null means "use the default".
namespace Cartridges.Silo.Tenants;

/// <summary>Optional per-tenant limits; unset values fall back to the silo's configured defaults.</summary>
public sealed record TenantLimits
{
    /// <summary>Most cartridges the tenant may hold.</summary>
    public int? MaxCartridges { get; init; }

    /// <summary>Most corpus bytes summed over the tenant's cartridges.</summary>
    public long? MaxCorpusBytes { get; init; }

    /// <summary>Most requests of the tenant in flight at once on one silo.</summary>
    public int? MaxConcurrentRequests { get; init; }

    /// <summary>Ceilings on this tenant's cartridge budgets, tightening the silo's (Cartridges:Limits).</summary>
    public Abstractions.BudgetLimits? Budgets { get; init; }
}

/// <summary>An authenticated tenant: its name (the first part of its cartridge keys) and its limits.</summary>
public sealed record TenantInfo(string Name, TenantLimits? Limits);
