// Everything a silo needs to host cartridges, shared by the silo host and the cluster tests so both run the same
// configuration. Profiles: Local (files under a data directory) and Postgres (ADO.NET clustering, grain storage
// and reminders; blobs in PostgreSQL or on a shared volume).
using Cartridges.Grains.Engines;
using Cartridges.Grains.Placement;
using Cartridges.Storage;
using Cartridges.Storage.Blobs;
using Cartridges.Storage.Hosting;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cartridges.Grains.Hosting;

/// <summary>Registers the cartridge grains' services, placement and storage on a silo.</summary>
public static class CartridgesSiloExtensions
{
    /// <summary>
    /// Adds engines, placement (accelerator-only filter, most-free-memory, silo-keyed), silo metadata from
    /// <c>Orleans:Metadata</c>, grain storage / reminders / blobs of the profile named by <c>Cartridges:Profile</c>
    /// (Local | Postgres). Local keeps everything under <c>Cartridges:DataDirectory</c>; Postgres needs
    /// <c>ConnectionStrings:Postgres</c>. Clustering of the Local profile is left to the caller (localhost or test).
    /// </summary>
    public static ISiloBuilder AddCartridges(this ISiloBuilder silo, IConfiguration configuration)
    {
        var profile = configuration["Cartridges:Profile"] ?? "Local";
        var dataDir = SiloPaths.DataDirectory(configuration);
        silo.UseSiloMetadata(configuration);
        silo.Services.AddOptions<CartridgesOptions>().Bind(configuration.GetSection(CartridgesOptions.Section)).PostConfigure(o =>
        {
            if (configuration[$"{CartridgesOptions.Section}:WorkDirectory"] is null) o.WorkDirectory = Path.Combine(dataDir, "work");
        });
        silo.Services.AddSingleton<SiloEngineHost>();
        silo.Services.AddMetrics();
        silo.Services.AddSingleton<CartridgeMetrics>();
        silo.Services.AddSingleton<CartridgeIntegrity>();
        silo.Services.AddSingleton<ServerPaths>();
        silo.Services.AddHostedService<StorageCollectionService>();
        silo.AddIncomingGrainCallFilter<PortableExceptionFilter>();
        silo.Services.AddSingleton<AcceleratorLoadMonitor>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<AcceleratorLoadMonitor>());
        silo.Services.AddPlacementFilter<AcceleratorOnlyFilter, AcceleratorOnlyFilterDirector>(ServiceLifetime.Singleton);
        silo.AddPlacementDirector<MostFreeMemoryPlacement, MostFreeMemoryPlacementDirector>();
        silo.AddPlacementDirector<SiloKeyedPlacement, SiloKeyedPlacementDirector>();
        silo.Configure<ReminderOptions>(o =>
        {
            if (configuration.GetValue<TimeSpan?>("Cartridges:MinimumReminderPeriod") is { } min) o.MinimumReminderPeriod = min;
        });

        switch (profile)
        {
            case "Local":
                silo.UseCartridgesLocal(dataDir); // file grain state and blobs under dataDir
                break;
            case "Postgres":
                var connection = configuration.GetConnectionString("Postgres")
                    ?? throw new InvalidOperationException("The Postgres profile needs ConnectionStrings:Postgres (env ConnectionStrings__Postgres).");
                // Blobs go to PostgreSQL unless a shared volume is named (then files there, e.g. a k8s RWX volume).
                if (configuration["Cartridges:BlobDirectory"] is { } blobDir) silo.Services.AddSingleton<IBlobStore>(_ => new FileBlobStore(blobDir));
                silo.UseCartridgesPostgres(connection);
                break;
            default:
                throw new InvalidOperationException($"Unknown Cartridges:Profile '{profile}'; use Local or Postgres.");
        }
        return silo;
    }
}
