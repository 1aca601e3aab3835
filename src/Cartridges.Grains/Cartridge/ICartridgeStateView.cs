// The Orleans dashboard's grain-state page shows what a grain's parameterless Task<T> methods return, where T is the
// type of one of its IPersistentState fields or the method is called GetState; ICartridgeGrain has none, so the page
// showed {}. This read-only interface is what it finds (internal: no client needs it).
using Orleans.Concurrency;

namespace Cartridges.Grains.Cartridge;

/// <summary>The persisted record of a cartridge, for the dashboard's grain-state view.</summary>
internal interface ICartridgeStateView : IGrainWithStringKey
{
    /// <summary>The stored record as it is now (no side effects; never queued behind running work).</summary>
    [AlwaysInterleave]
    Task<CartridgeRecord> GetState();
}
