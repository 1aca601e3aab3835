// How silos and clients plug the storage layer into Orleans: the Postgres profile (cluster) and the Local profile.
using Cartridges.Storage.Blobs;
using Cartridges.Storage.Collection;
using Cartridges.Storage.GrainStorage;
using Cartridges.Storage.Reminders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Cartridges.Storage.Hosting;

/// <summary>Silo and client builder extensions for the Postgres and Local storage profiles.</summary>
public static class CartridgesStorageHostingExtensions
{
    /// <summary>The ADO.NET invariant of Npgsql; Orleans' persistence would otherwise default to SQL Server.</summary>
    public const string NpgsqlInvariant = "Npgsql";

    /// <summary>
    /// Postgres profile: ADO.NET clustering, grain storage <see cref="StorageNames.Cartridges"/> (also the default
    /// storage) and reminders on PostgreSQL, plus a <see cref="PostgresBlobStore"/> as <see cref="IBlobStore"/> unless
    /// one is registered. With <paramref name="migrateSchema"/>, the silo applies deploy/sql before its providers start.
    /// </summary>
    public static ISiloBuilder UseCartridgesPostgres(this ISiloBuilder builder, string connectionString, bool migrateSchema = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (migrateSchema)
        {
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new SchemaMigrationParticipant(
                connectionString, sp.GetRequiredService<ILogger<SchemaMigrationParticipant>>()));
        }

        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        builder.AddAdoNetGrainStorage(StorageNames.Cartridges, o =>
        {
            o.Invariant = NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        builder.UseAdoNetReminderService(o =>
        {
            o.Invariant = NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        AliasAsDefaultStorage(builder.Services, StorageNames.Cartridges);
        builder.Services.TryAddSingleton<IBlobStore>(_ => new PostgresBlobStore(connectionString));
        builder.Services.TryAddSingleton<IBlobReferenceSource>(_ => new PostgresGrainStateReferences(connectionString));
        return builder;
    }

    /// <summary>Client side of the Postgres profile: finds gateways through the ADO.NET membership table.</summary>
    public static IClientBuilder UseCartridgesPostgresClustering(this IClientBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.UseAdoNetClustering(o =>
        {
            o.Invariant = NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
    }

    /// <summary>Adds a <see cref="FileGrainStorage"/> named <paramref name="name"/> under <paramref name="directory"/>.</summary>
    /// <remarks>Serializes with the <see cref="IGrainStorageSerializer"/> keyed by the name, else the silo's default (JSON).</remarks>
    public static ISiloBuilder AddCartridgesFileGrainStorage(this ISiloBuilder builder, string name, string directory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        builder.Services.AddGrainStorage(name, (sp, key) => new FileGrainStorage(
            directory,
            sp.GetKeyedService<IGrainStorageSerializer>(key) ?? sp.GetRequiredService<IGrainStorageSerializer>(),
            sp.GetRequiredService<IActivatorProvider>()));
        return builder;
    }

    /// <summary>
    /// Local profile: file grain storage <see cref="StorageNames.Cartridges"/> (also the default) under
    /// <c>dataDir/grain-state</c>, reminders in <c>dataDir/reminders.json</c> (so work resumes after a restart without a
    /// request), and a <see cref="FileBlobStore"/> under <c>dataDir/blobs</c> as
    /// <see cref="IBlobStore"/> unless one is registered. Clustering (localhost) is the host's choice.
    /// </summary>
    public static ISiloBuilder UseCartridgesLocal(this ISiloBuilder builder, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        builder.AddCartridgesFileGrainStorage(StorageNames.Cartridges, Path.Combine(dataDir, "grain-state"));
        AliasAsDefaultStorage(builder.Services, StorageNames.Cartridges);
        builder.AddReminders();
        builder.Services.AddSingleton<IReminderTable>(_ => new FileReminderTable(Path.Combine(dataDir, "reminders.json")));
        builder.Services.TryAddSingleton<IBlobStore>(_ => new FileBlobStore(Path.Combine(dataDir, "blobs")));
        builder.Services.TryAddSingleton<IBlobReferenceSource>(_ => new GrainStateDirectoryReferences(Path.Combine(dataDir, "grain-state")));
        return builder;
    }

    /// <summary>Grains without a storage name get the same instance, not a second provider on the same data.</summary>
    private static void AliasAsDefaultStorage(IServiceCollection services, string name)
    {
        services.AddKeyedSingleton<IGrainStorage>(
            ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) => sp.GetRequiredKeyedService<IGrainStorage>(name));
        services.TryAddSingleton<IGrainStorage>(
            sp => sp.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME));
    }
}
