// `cartridges db …`: the project's PostgreSQL schema (deploy/sql), applied idempotently.
using System.CommandLine;
using System.Globalization;
using Cartridges.Grains.Hosting;
using Cartridges.Storage.Blobs;
using Cartridges.Storage.Collection;
using Cartridges.Storage.Database;

namespace Cartridges.Cli.Commands;

/// <summary>The `db` command group.</summary>
internal static class DbCommands
{
    public static Command Create()
    {
        var connection = new Option<string?>("--connection")
        {
            Description = "PostgreSQL connection string (default: env ConnectionStrings__Postgres)",
        };
        var migrate = new Command("migrate", "Create or update the cluster's PostgreSQL schema (Orleans clustering, grain state, reminders, blobs); safe to rerun")
        {
            connection,
        };
        migrate.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var cs = pr.GetValue(connection) ?? Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
                ?? throw new ArgumentException("No connection string: pass --connection or set ConnectionStrings__Postgres.");
            var result = await SchemaMigrator.MigrateAsync(cs, ct);
            if (result.DatabaseCreated) Console.WriteLine("created the database");
            foreach (var script in result.Applied) Console.WriteLine($"applied  {script}");
            Console.WriteLine(result.NothingToDo ? $"schema up to date ({result.AlreadyApplied.Count} scripts already applied)" : $"{result.Applied.Count} script(s) applied");
            return 0;
        }));
        var cmd = new Command("db", "Database administration");
        cmd.Subcommands.Add(migrate);
        cmd.Subcommands.Add(Gc(connection));
        return cmd;
    }

    static Command Gc(Option<string?> connection)
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "A Local-profile data directory (instead of PostgreSQL)" };
        var grace = new Option<TimeSpan>("--grace")
        {
            Description = "Keep blobs stored (or put again) within this time, e.g. 01:00:00: their state write may still be coming",
            DefaultValueFactory = _ => TimeSpan.FromHours(1),
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be deleted, delete nothing" };
        var gc = new Command("gc", "Delete blobs no cartridge references (replaced checkpoints, deleted cartridges) and, for a data directory, stale work directories")
        {
            connection, dataDir, grace, dryRun,
        };
        gc.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            if (pr.GetValue(grace) < TimeSpan.Zero) throw new ArgumentException("--grace must not be negative.");
            CollectionReport report;
            if (pr.GetValue(dataDir) is { } dir)
            {
                if (!Directory.Exists(dir)) throw new ArgumentException($"--data-dir '{dir}' does not exist.");
                report = await BlobCollector.CollectAsync(new FileBlobStore(Path.Combine(dir, "blobs")),
                    new GrainStateDirectoryReferences(Path.Combine(dir, "grain-state")), pr.GetValue(grace), pr.GetValue(dryRun), ct);
                if (!pr.GetValue(dryRun))
                {
                    // Offline there is no membership to ask: a work directory untouched for the grace period is nobody's.
                    var work = WorkDirectoryCollector.Collect(Path.Combine(dir, "work"), new HashSet<string>(), pr.GetValue(grace));
                    if (work.Count > 0) Console.WriteLine($"deleted {work.Count} stale work director{(work.Count == 1 ? "y" : "ies")}");
                }
            }
            else
            {
                var cs = pr.GetValue(connection) ?? Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
                    ?? throw new ArgumentException("No store: pass --data-dir, --connection or set ConnectionStrings__Postgres.");
                using var store = new PostgresBlobStore(cs);
                report = await BlobCollector.CollectAsync(store, new PostgresGrainStateReferences(cs), pr.GetValue(grace), pr.GetValue(dryRun), ct);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{report.Stored} blobs stored, {report.Referenced} referenced, {report.Young} unreferenced but younger than the grace period; "
                + $"{(report.DryRun ? "would delete" : "deleted")} {report.Deleted} ({report.DeletedBytes / 1e6:F1} MB)"));
            return 0;
        }));
        return gc;
    }
}
