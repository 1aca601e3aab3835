// The PostgreSQL server the tests run against: CARTRIDGES_TEST_POSTGRES if set (CI starts one), otherwise a private
// LocalPostgres started on first use and stopped when the test process exits. Each test takes its own database.
//
// To reuse from another test project: reference Cartridges.Storage and copy this file, then
//   var cs = await PostgresServer.CreateDatabaseAsync("mytest");   // fresh empty database
//   await SchemaMigrator.MigrateAsync(cs);                          // if it needs the schema
using Cartridges.Storage.Database;
using Npgsql;

namespace Cartridges.Storage.Tests.Support;

/// <summary>Hands out fresh databases on a shared test PostgreSQL server.</summary>
public static class PostgresServer
{
    /// <summary>Connection string of an existing server (any database on it; must be allowed to CREATE DATABASE).</summary>
    public const string EnvironmentVariable = "CARTRIDGES_TEST_POSTGRES";

    private static readonly Lazy<Task<string>> Admin = new(StartOrConnectAsync);
    private static LocalPostgres? _local;

    /// <summary>Connection string of the server's maintenance database.</summary>
    public static Task<string> AdminConnectionStringAsync() => Admin.Value;

    /// <summary>Creates an empty database named after <paramref name="prefix"/> and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var admin = await Admin.Value;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        await LocalPostgres.CreateDatabaseAsync(admin, name);
        return ConnectionStringFor(admin, name);
    }

    /// <summary>The same server and credentials as <paramref name="connectionString"/>, another database.</summary>
    public static string ConnectionStringFor(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    private static async Task<string> StartOrConnectAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        _local = await LocalPostgres.StartAsync();
        _local.StopWhenProcessExits(Environment.ProcessId);
        return _local.ConnectionString;
    }
}
