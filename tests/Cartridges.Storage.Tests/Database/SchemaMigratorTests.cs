// The migrator against a real PostgreSQL: applies deploy/sql once, detects edited scripts, reports bad servers clearly.
using Cartridges.Storage.Database;
using Cartridges.Storage.Tests.Support;

namespace Cartridges.Storage.Tests.Database;

public sealed class SchemaMigratorTests
{
    /// <summary>Every query key the three ADO.NET providers look up (Orleans 10.4.2).</summary>
    private static readonly string[] OrleansQueryKeys =
    [
        "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey",
        "CleanupDefunctSiloEntriesKey",
        "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey",
        "UpsertReminderRowKey", "ReadReminderRowKey", "ReadReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    [Fact]
    public void EmbeddedScripts_AreNumberedAndOrdered()
    {
        var names = SchemaScript.Embedded().Select(s => s.Name).ToList();
        Assert.Equal(
            ["001-orleans-query.sql", "002-clustering.sql", "003-persistence.sql", "004-reminders.sql", "005-blobs.sql"], names);
    }

    [Fact]
    public async Task Migrate_FreshDatabase_AppliesEveryScriptAndAllQueryKeys()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_fresh");

        var result = await SchemaMigrator.MigrateAsync(cs);

        Assert.Equal(SchemaScript.Embedded().Select(s => s.Name), result.Applied);
        Assert.Empty(result.AlreadyApplied);
        foreach (var key in OrleansQueryKeys)
        {
            // Unquoted, as Orleans queries it: proves the table folds to orleansquery/querykey/querytext.
            var count = await Sql.ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansQuery WHERE QueryKey = @k", ("k", key));
            Assert.True(count == 1, $"query key {key} missing");
        }

        var recorded = await SchemaMigrator.ReadAppliedAsync(cs);
        Assert.Equal(SchemaScript.Embedded().ToDictionary(s => s.Name, s => s.Sha256), recorded);
    }

    [Fact]
    public async Task Migrate_SecondRun_IsNoOp()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_twice");
        await SchemaMigrator.MigrateAsync(cs);
        var before = await Sql.ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansQuery");

        var second = await SchemaMigrator.MigrateAsync(cs);

        Assert.True(second.NothingToDo);
        Assert.Equal(SchemaScript.Embedded().Select(s => s.Name), second.AlreadyApplied);
        Assert.Equal(before, await Sql.ScalarAsync<long>(cs, "SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task Scripts_AreIdempotent_WhenRunAgainOutsideTheMigrator()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_idem");
        await SchemaMigrator.MigrateAsync(cs);
        // Re-running under new names executes every statement a second time against the existing schema.
        var renamed = SchemaScript.Embedded().Select(s => s with { Name = "9" + s.Name }).ToList();

        var result = await SchemaMigrator.MigrateAsync(cs, renamed);

        Assert.Equal(renamed.Select(s => s.Name), result.Applied);
    }

    [Fact]
    public async Task Migrate_ChangedScript_FailsNamingTheScript()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_changed");
        await SchemaMigrator.MigrateAsync(cs);
        var edited = SchemaScript.Embedded()
            .Select(s => s.Name == "003-persistence.sql" ? s with { Sql = s.Sql + "\n-- edited\n" } : s)
            .ToList();

        var e = await Assert.ThrowsAsync<SchemaMigrationException>(() => SchemaMigrator.MigrateAsync(cs, edited));

        Assert.Contains("003-persistence.sql", e.Message);
    }

    [Fact]
    public async Task Migrate_NewScript_IsAppliedAfterTheRecordedOnes()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_new");
        await SchemaMigrator.MigrateAsync(cs);
        var more = SchemaScript.Embedded().Append(new SchemaScript("999-extra.sql", "CREATE TABLE extra_t (id int);")).ToList();

        var result = await SchemaMigrator.MigrateAsync(cs, more);

        Assert.Equal(["999-extra.sql"], result.Applied);
    }

    [Fact]
    public async Task Migrate_FailingScript_RollsBackAndNamesIt()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_fail");
        var scripts = new[] { new SchemaScript("001-bad.sql", "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;") };

        var e = await Assert.ThrowsAsync<SchemaMigrationException>(() => SchemaMigrator.MigrateAsync(cs, scripts));

        Assert.Contains("001-bad.sql", e.Message);
        Assert.Null(await Sql.ScalarAsync<string>(cs, "SELECT to_regclass('half_done')::text"));
        Assert.Empty(await SchemaMigrator.ReadAppliedAsync(cs));
    }

    [Fact]
    public async Task Migrate_ConcurrentMigrators_ApplyEachScriptOnce()
    {
        var admin = await PostgresServer.CreateDatabaseAsync("migrate_race");

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => SchemaMigrator.MigrateAsync(admin))));

        Assert.Equal(SchemaScript.Embedded().Count, results.Sum(r => r.Applied.Count));
    }

    [Fact]
    public async Task Migrate_MissingDatabase_IsCreated()
    {
        var admin = await PostgresServer.AdminConnectionStringAsync();
        var cs = PostgresServer.ConnectionStringFor(admin, $"migrate_create_{Guid.NewGuid():N}"[..30]);

        var result = await SchemaMigrator.MigrateAsync(cs);

        Assert.True(result.DatabaseCreated);
        Assert.Equal(SchemaScript.Embedded().Count, result.Applied.Count);
    }

    [Fact]
    public async Task Migrate_UnreachableServer_SaysWhereItLooked()
    {
        var port = ClosedPort();
        var cs = $"Host=127.0.0.1;Port={port};Database=nowhere;Username=postgres;Timeout=5";

        var e = await Assert.ThrowsAsync<SchemaMigrationException>(() => SchemaMigrator.MigrateAsync(cs));

        Assert.Contains("127.0.0.1", e.Message);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Contains("nowhere", e.Message);
        Assert.DoesNotContain("   at ", e.Message); // one line for an operator, not a stack trace
    }

    // Free now and nobody listens on it afterwards: connecting is refused.
    private static int ClosedPort() => Storage.Networking.LoopbackPort.Free();
}
