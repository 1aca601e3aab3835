// Model grains are keyed "{silo}|{model}" and must live on exactly that silo: one per silo per base model.
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Cartridges.Grains.Placement;

/// <summary>Places a grain on the silo named at the start of its key (<c>{silo}|…</c>).</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class SiloKeyedPlacement : PlacementStrategy
{
    /// <summary>The shared instance.</summary>
    public static readonly SiloKeyedPlacement Instance = new();

    /// <summary>The key of the grain for <paramref name="rest"/> on <paramref name="silo"/>.</summary>
    public static string Key(SiloAddress silo, string rest) => $"{silo.ToParsableString()}|{rest}";

    /// <summary>Splits a key into its silo and the rest.</summary>
    public static (SiloAddress Silo, string Model) Parse(string key)
    {
        var bar = key.IndexOf('|');
        if (bar <= 0) throw new ArgumentException($"Grain key '{key}' must look like {{silo}}|{{model}}.");
        return (SiloAddress.FromParsableString(key[..bar]), key[(bar + 1)..]);
    }
}

/// <summary>Marks a grain class for <see cref="SiloKeyedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloKeyedPlacementAttribute() : PlacementAttribute(SiloKeyedPlacement.Instance);

/// <summary>Returns the silo named by the grain key; refuses when that silo is not an active compatible silo.</summary>
internal sealed class SiloKeyedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var (silo, _) = SiloKeyedPlacement.Parse(key);
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new OrleansException($"Silo {silo} named by grain key '{key}' is not an active accelerator silo.");
        return Task.FromResult(silo);
    }
}
