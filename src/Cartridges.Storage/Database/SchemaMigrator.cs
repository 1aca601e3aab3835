// Applies deploy/sql to a PostgreSQL database: each script once, in order, each in its own transaction.
using System.Net.Sockets;
using Npgsql;

namespace Cartridges.Storage.Database;

/// <summary>Idempotent schema migration recorded in <c>cartridges_schema_migrations</c>.</summary>
public static class SchemaMigrator
{
    /// <summary>Advisory-lock key ("Cartridg" in ASCII) that serialises migrators, e.g. silos starting together.</summary>
    internal const long LockKey = 0x4361727472696467;

    /// <summary>Applies the embedded deploy/sql scripts, creating the database first if it does not exist.</summary>
    public static Task<MigrationResult> MigrateAsync(string connectionString, CancellationToken ct = default) =>
        MigrateAsync(connectionString, SchemaScript.Embedded(), ct);

    /// <summary>Applies <paramref name="scripts"/> (ordered by name) that are not yet recorded.</summary>
    /// <exception cref="SchemaMigrationException">Unreachable server, changed script, or a failing script.</exception>
    public static async Task<MigrationResult> MigrateAsync(
        string connectionString, IReadOnlyList<SchemaScript> scripts, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(scripts);
        var ordered = scripts.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();

        var (conn, created) = await OpenAsync(connectionString, ct).ConfigureAwait(false);
        await using (conn)
        {
            // Session-level lock: held across the per-script transactions, released in finally (or when the
            // connection drops), so a second silo waits and then finds everything applied.
            await ExecuteAsync(conn, $"SELECT pg_advisory_lock({LockKey})", ct).ConfigureAwait(false);
            try
            {
                await ExecuteAsync(conn, """
                    CREATE TABLE IF NOT EXISTS cartridges_schema_migrations
                    (
                        name    text        NOT NULL PRIMARY KEY,
                        sha256  char(64)    NOT NULL,
                        applied timestamptz NOT NULL DEFAULT now()
                    )
                    """, ct).ConfigureAwait(false);

                var recorded = await ReadRecordedAsync(conn, ct).ConfigureAwait(false);
                foreach (var script in ordered)
                {
                    if (recorded.TryGetValue(script.Name, out var hash) && hash != script.Sha256)
                    {
                        throw new SchemaMigrationException(
                            $"Schema script '{script.Name}' was applied with SHA-256 {hash} but now hashes to {script.Sha256}. " +
                            "Applied scripts must not change: add a new numbered script instead.");
                    }
                }

                var applied = new List<string>();
                var already = new List<string>();
                foreach (var script in ordered)
                {
                    if (recorded.ContainsKey(script.Name))
                    {
                        already.Add(script.Name);
                        continue;
                    }

                    await ApplyAsync(conn, script, ct).ConfigureAwait(false);
                    applied.Add(script.Name);
                }

                return new MigrationResult(applied, already, created);
            }
            finally
            {
                if (conn.State == System.Data.ConnectionState.Open)
                {
                    await ExecuteAsync(conn, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Names and hashes of the scripts recorded as applied.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> ReadAppliedAsync(string connectionString, CancellationToken ct = default)
    {
        var (conn, _) = await OpenAsync(connectionString, ct, createIfMissing: false).ConfigureAwait(false);
        await using (conn)
        {
            await using var exists = new NpgsqlCommand("SELECT to_regclass('cartridges_schema_migrations') IS NOT NULL", conn);
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
            {
                return new Dictionary<string, string>();
            }

            return await ReadRecordedAsync(conn, ct).ConfigureAwait(false);
        }
    }

    private static async Task ApplyAsync(NpgsqlConnection conn, SchemaScript script, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        try
        {
            await using (var cmd = new NpgsqlCommand(script.Sql, conn, tx))
            {
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await using (var record = new NpgsqlCommand(
                "INSERT INTO cartridges_schema_migrations (name, sha256) VALUES (@name, @sha256)", conn, tx))
            {
                record.Parameters.AddWithValue("name", script.Name);
                record.Parameters.AddWithValue("sha256", script.Sha256);
                await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            throw new SchemaMigrationException(
                $"Schema script '{script.Name}' failed: {e.SqlState} {e.MessageText}" +
                (e.Position > 0 ? $" (at character {e.Position})" : ""), e);
        }
    }

    private static async Task<Dictionary<string, string>> ReadRecordedAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var cmd = new NpgsqlCommand("SELECT name, sha256 FROM cartridges_schema_migrations", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            recorded[reader.GetString(0)] = reader.GetString(1);
        }

        return recorded;
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Opens a connection, creating the database when it is missing; failures become one readable line.</summary>
    private static async Task<(NpgsqlConnection Connection, bool Created)> OpenAsync(
        string connectionString, CancellationToken ct, bool createIfMissing = true)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var created = false;
        while (true)
        {
            var conn = new NpgsqlConnection(connectionString);
            try
            {
                await conn.OpenAsync(ct).ConfigureAwait(false);
                return (conn, created);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName && createIfMissing && !created)
            {
                await conn.DisposeAsync().ConfigureAwait(false);
                await CreateDatabaseAsync(builder, ct).ConfigureAwait(false);
                created = true;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
            {
                await conn.DisposeAsync().ConfigureAwait(false);
                throw new SchemaMigrationException($"Cannot connect to PostgreSQL at {Describe(builder)}: {Reason(e)}", e);
            }
        }
    }

    private static async Task CreateDatabaseAsync(NpgsqlConnectionStringBuilder target, CancellationToken ct)
    {
        var admin = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {QuoteIdentifier(target.Database!)}", conn);
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another migrator created it first; that is what we wanted.
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            throw new SchemaMigrationException(
                $"Database '{target.Database}' does not exist at {Describe(target)} and could not be created: {Reason(e)}", e);
        }
    }

    internal static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Describe(NpgsqlConnectionStringBuilder b) =>
        $"host '{b.Host ?? "localhost"}', port {b.Port}, database '{b.Database ?? b.Username ?? "(default)"}'";

    private static string Reason(Exception e) => e switch
    {
        PostgresException pg => $"{pg.SqlState} {pg.MessageText}",
        { InnerException: SocketException s } => s.Message,
        { InnerException: { } inner } when e is NpgsqlException => $"{e.Message} ({inner.Message})",
        _ => e.Message,
    };
}
