// FileReminderTable on its own: rows survive a new instance (a restarted silo), ETags guard removal, ring ranges wrap.
using Cartridges.Storage.Reminders;
using Orleans;
using Orleans.Runtime;

namespace Cartridges.Storage.Tests.Reminders;

public sealed class FileReminderTableTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"cartridges-reminders-{Guid.NewGuid():N}");

    private string FilePath => Path.Combine(_dir, "reminders.json");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static GrainId Id(string key) => GrainId.Create("cartridge", key);

    private static ReminderEntry Entry(string key, string name = "resume") => new()
    {
        GrainId = Id(key),
        ReminderName = name,
        StartAt = new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc),
        Period = TimeSpan.FromMinutes(1),
    };

    [Fact]
    public async Task Rows_SurviveANewInstance_WithTheirFields()
    {
        var etag = await new FileReminderTable(FilePath).UpsertRow(Entry("t/a"));

        var row = await new FileReminderTable(FilePath).ReadRow(Id("t/a"), "resume");

        Assert.NotNull(row);
        Assert.Equal(Id("t/a"), row.GrainId);
        Assert.Equal(etag, row.ETag);
        Assert.Equal(TimeSpan.FromMinutes(1), row.Period);
        Assert.Equal(new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc), row.StartAt);
        Assert.Equal(DateTimeKind.Utc, row.StartAt.Kind);
        Assert.Null(await new FileReminderTable(FilePath).ReadRow(Id("t/b"), "resume"));
    }

    [Fact]
    public async Task Upsert_ReplacesTheRow_AndRemoveNeedsTheCurrentETag()
    {
        var table = new FileReminderTable(FilePath);
        var first = await table.UpsertRow(Entry("t/a"));
        var second = await table.UpsertRow(Entry("t/a"));
        await table.UpsertRow(Entry("t/a", "other"));

        Assert.NotEqual(first, second);
        Assert.Equal(2, (await table.ReadRows(Id("t/a"))).Reminders.Count);
        Assert.False(await table.RemoveRow(Id("t/a"), "resume", first!));
        Assert.True(await table.RemoveRow(Id("t/a"), "resume", second!));
        Assert.False(await table.RemoveRow(Id("t/a"), "resume", second!));
        Assert.Equal(["other"], (await new FileReminderTable(FilePath).ReadRows(Id("t/a"))).Reminders.Select(r => r.ReminderName));
    }

    [Fact]
    public async Task RangeReads_CoverTheRing_WithWrapAround()
    {
        var table = new FileReminderTable(FilePath);
        var keys = Enumerable.Range(0, 40).Select(i => $"t/{i}").ToList();
        foreach (var k in keys) await table.UpsertRow(Entry(k));
        var hashes = keys.ToDictionary(k => k, k => Id(k).GetUniformHashCode());
        var pivot = hashes.Values.Order().ElementAt(20);

        var upper = (await table.ReadRows(pivot, uint.MaxValue)).Reminders.Select(r => r.GrainId).ToHashSet();
        var wrapped = (await table.ReadRows(uint.MaxValue, pivot)).Reminders.Select(r => r.GrainId).ToHashSet();
        var all = (await table.ReadRows(pivot, pivot)).Reminders;

        Assert.Equal(keys.Where(k => hashes[k] > pivot).Select(Id).ToHashSet(), upper);
        Assert.Equal(keys.Where(k => hashes[k] <= pivot).Select(Id).ToHashSet(), wrapped);
        Assert.Equal(40, all.Count);
    }

    [Fact]
    public async Task ACorruptFile_IsReportedByName_AndNotOverwritten()
    {
        Directory.CreateDirectory(_dir);
        await File.WriteAllTextAsync(FilePath, "{ not json");

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new FileReminderTable(FilePath).UpsertRow(Entry("t/a")));

        Assert.Contains("reminders.json", e.Message, StringComparison.Ordinal);
        Assert.Equal("{ not json", await File.ReadAllTextAsync(FilePath));
    }
}
