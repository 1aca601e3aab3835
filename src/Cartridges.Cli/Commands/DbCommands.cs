// `cartridges db …`: the project's PostgreSQL schema (deploy/sql), applied idempotently.
using System.CommandLine;
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
        return cmd;
    }
}
