// The PostgreSQL the Postgres-profile tests use: the one .ci/run started (CARTRIDGES_TEST_POSTGRES), or else a
// private throw-away server started here, so plain `dotnet test` works too.
using Cartridges.Storage.Database;
using Npgsql;

namespace Cartridges.Cluster.Tests.Support;

/// <summary>Creates fresh databases on the test PostgreSQL server.</summary>
public static class TestPostgres
{
    static readonly Lazy<Task<string>> Admin = new(async () =>
    {
        if (Environment.GetEnvironmentVariable("CARTRIDGES_TEST_POSTGRES") is { Length: > 0 } configured) return configured;
        var local = await LocalPostgres.StartAsync();
        local.StopWhenProcessExits(Environment.ProcessId);
        return local.ConnectionString;
    });

    /// <summary>A new empty database; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var admin = await Admin.Value;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)].ToLowerInvariant();
        await LocalPostgres.CreateDatabaseAsync(admin, name);
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }
}
