// For the Orleans dashboard's grain-state page, which shows what a grain's parameterless GetState method returns
// (see ICartridgeStateView in the grains).
using Orleans.Concurrency;

namespace Cartridges.Silo.Tenants;

/// <summary>The persisted index of a tenant, for the dashboard's grain-state view.</summary>
internal interface ITenantStateView : IGrainWithStringKey
{
    /// <summary>The stored record as it is now (no side effects).</summary>
    [AlwaysInterleave]
    Task<TenantRecord> GetState();
}
