// The silo's housekeeping timer: shortly after start and then every CollectionInterval, delete the work directories
// of silos that are gone and, on one silo of the cluster (the lowest active address), the blobs no state names.
using Cartridges.Grains.Engines;
using Cartridges.Storage.Blobs;
using Cartridges.Storage.Collection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cartridges.Grains.Hosting;

/// <summary>Runs work-directory and blob collection on a timer.</summary>
internal sealed class StorageCollectionService(
    IOptions<CartridgesOptions> options,
    IServiceProvider services,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    ILogger<StorageCollectionService> log) : BackgroundService
{
    static readonly TimeSpan FirstPass = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.CollectionInterval;
        if (interval <= TimeSpan.Zero) return;
        try
        {
            await Task.Delay(interval < FirstPass ? interval : FirstPass, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await CollectOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "Storage collection failed; it runs again in {Interval}", interval);
                }
                await Task.Delay(interval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass (also what tests call).</summary>
    public async Task CollectOnceAsync(CancellationToken ct)
    {
        var snapshot = membership.CurrentSnapshot;
        var live = snapshot.Members.Values.Where(m => m.Status is not SiloStatus.Dead)
            .Select(m => SiloEngineHost.WorkDirectoryName(m.SiloAddress.ToParsableString())).ToHashSet(StringComparer.Ordinal);
        live.Add(SiloEngineHost.WorkDirectoryName(silo.SiloAddress.ToParsableString()));
        var dirs = WorkDirectoryCollector.Collect(options.Value.WorkDirectory, live, TimeSpan.FromMinutes(2));
        if (dirs.Count > 0) log.LogInformation("Collected {Count} work director(ies) of silos that are gone", dirs.Count);

        // Blob collection is cluster-wide; one silo at a time is enough.
        var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        if (active.Count > 0 && !active.Min()!.Equals(silo.SiloAddress)) return;
        if (services.GetService<IBlobReferenceSource>() is not { } references) return;
        var report = await BlobCollector.CollectAsync(services.GetRequiredService<IBlobStore>(), references, options.Value.CollectionGrace, ct: ct);
        if (report.Deleted > 0) log.LogInformation("Collected {Count} unreferenced blob(s), {Bytes} bytes", report.Deleted, report.DeletedBytes);
    }
}
