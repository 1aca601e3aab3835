// Keeps a per-silo view of which silos are accelerator silos and how much accelerator memory each has free,
// refreshed in the background from every accelerator silo's model grain. Placement reads it synchronously.
using System.Collections.Concurrent;
using Cartridges.Abstractions;
using Cartridges.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Cartridges.Grains.Placement;

/// <summary>Live free-memory figures of accelerator silos, for placement and synthesis fan-out.</summary>
public sealed class AcceleratorLoadMonitor(
    IClusterMembershipService membership,
    ISiloMetadataCache metadata,
    IGrainFactory grains,
    IOptions<CartridgesOptions> options,
    ILogger<AcceleratorLoadMonitor> log) : BackgroundService
{
    // A placement not yet visible in the stats still costs memory; without this, a burst of creations would all pick
    // the same "most free" silo before the next refresh.
    const long PendingPlacementCost = 64L << 20;

    readonly ConcurrentDictionary<SiloAddress, long> _free = new();
    readonly ConcurrentDictionary<SiloAddress, int> _pending = new();

    /// <summary>Active silos that declare gpu=true, in a stable order.</summary>
    public SiloAddress[] ActiveAccelerators() =>
        membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && AcceleratorMetadata.IsAccelerator(metadata.GetSiloMetadata(m.SiloAddress)))
            .Select(m => m.SiloAddress)
            .OrderBy(s => s.ToParsableString(), StringComparer.Ordinal)
            .ToArray();

    /// <summary>Free accelerator memory last reported by a silo (its declared memory when no report has arrived).</summary>
    public long FreeBytes(SiloAddress silo) =>
        _free.TryGetValue(silo, out var free) ? free : AcceleratorMetadata.DeviceMemoryBytes(metadata.GetSiloMetadata(silo));

    /// <summary>Picks the candidate with the most free memory (minus placements not yet reflected), ties at random.</summary>
    public SiloAddress ChooseMostFree(IReadOnlyList<SiloAddress> candidates)
    {
        var best = candidates
            .Select(s => (Silo: s, Score: FreeBytes(s) - _pending.GetValueOrDefault(s) * PendingPlacementCost, Tie: Random.Shared.Next()))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Tie)
            .First().Silo;
        _pending.AddOrUpdate(best, 1, (_, n) => n + 1);
        return best;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.StatsRefresh);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var silo in ActiveAccelerators())
            {
                try
                {
                    var model = grains.GetGrain<IModelGrain>(SiloKeyedPlacement.Key(silo, options.Value.DefaultModel));
                    var stats = await model.GetStatsAsync().WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
                    _free[silo] = stats.FreeMemoryBytes;
                    _pending[silo] = 0;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogDebug(e, "No load figures from silo {Silo}", silo);
                }
            }
            foreach (var gone in _free.Keys.Except(ActiveAccelerators()).ToArray()) _free.TryRemove(gone, out _);
        }
    }
}
