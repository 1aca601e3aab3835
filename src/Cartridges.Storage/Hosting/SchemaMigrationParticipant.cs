// Runs the schema migration as the silo's first step, before the ADO.NET providers read OrleansQuery.
using Cartridges.Storage.Database;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Cartridges.Storage.Hosting;

internal sealed partial class SchemaMigrationParticipant(string connectionString, ILogger<SchemaMigrationParticipant> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Before RuntimeInitialize, where membership and storage providers load their queries.</summary>
    internal const int Stage = ServiceLifecycleStage.RuntimeInitialize - 100;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaMigrationParticipant), Stage, MigrateAsync);

    private async Task MigrateAsync(CancellationToken ct)
    {
        var result = await SchemaMigrator.MigrateAsync(connectionString, ct).ConfigureAwait(false);
        LogMigrated(string.Join(", ", result.Applied), result.AlreadyApplied.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL schema: applied [{Applied}], {AlreadyApplied} already applied")]
    private partial void LogMigrated(string applied, int alreadyApplied);
}
