// A fresh PostgreSQL database per test class: on the server .ci/run started (CARTRIDGES_TEST_POSTGRES), or on a private
// throw-away server when none was given.
using Cartridges.Storage.Database;
using Npgsql;

namespace Cartridges.Api.Tests.Support;

/// <summary>A new database on a real PostgreSQL server; dispose to stop a private server.</summary>
public sealed class FreshDatabase : IAsyncDisposable
{
    LocalPostgres? _server;

    /// <summary>Connection string of the new database.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Creates a database named <paramref name="prefix"/> plus a random suffix.</summary>
    public static async Task<FreshDatabase> CreateAsync(string prefix)
    {
        var result = new FreshDatabase();
        var admin = Environment.GetEnvironmentVariable("CARTRIDGES_TEST_POSTGRES");
        if (admin is not { Length: > 0 })
        {
            result._server = await LocalPostgres.StartAsync();
            admin = result._server.ConnectionString;
        }
        var database = $"{prefix}_{Guid.NewGuid():N}"[..20];
        await LocalPostgres.CreateDatabaseAsync(admin, database);
        result.ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
        return result;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is not null) await _server.DisposeAsync();
    }
}
