// Orleans' built-in metadata filters compare silos with the *calling* silo; a gateway without a GPU would then
// place work on other CPU silos. This filter instead keeps only silos whose metadata says gpu=true.
using Cartridges.Grains.Hosting;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Cartridges.Grains.Placement;

/// <summary>Places the grain only on silos that declare <c>gpu=true</c> in their metadata.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AcceleratorOnlyAttribute() : PlacementFilterAttribute(new AcceleratorOnlyFilter());

/// <summary>The strategy object behind <see cref="AcceleratorOnlyAttribute"/>.</summary>
public sealed class AcceleratorOnlyFilter() : PlacementFilterStrategy(order: 0);

/// <summary>Filters candidate silos down to accelerator silos.</summary>
internal sealed class AcceleratorOnlyFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var accelerators = silos.Where(s => AcceleratorMetadata.IsAccelerator(metadata.GetSiloMetadata(s))).ToArray();
        if (accelerators.Length == 0)
            throw new OrleansException($"No accelerator silo (metadata {AcceleratorMetadata.Gpu}=true) is active to host {target.GrainIdentity}.");
        return accelerators;
    }
}
