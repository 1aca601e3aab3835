// Among accelerator silos, new cartridges go where the most accelerator memory is free, judged by live engine
// stats that AcceleratorLoadMonitor refreshes in the background (a placement decision must not wait on the network).
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Cartridges.Grains.Placement;

/// <summary>Places a grain on the compatible silo with the most free accelerator memory.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class MostFreeMemoryPlacement : PlacementStrategy
{
    /// <summary>The shared instance.</summary>
    public static readonly MostFreeMemoryPlacement Instance = new();
}

/// <summary>Marks a grain class for <see cref="MostFreeMemoryPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class MostFreeMemoryPlacementAttribute() : PlacementAttribute(MostFreeMemoryPlacement.Instance);

/// <summary>Chooses the silo with the most free accelerator memory (ties broken at random).</summary>
internal sealed class MostFreeMemoryPlacementDirector(AcceleratorLoadMonitor load) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (silos.Length == 0) throw new OrleansException($"No compatible silo for {target.GrainIdentity}.");
        return Task.FromResult(load.ChooseMostFree(silos));
    }
}
