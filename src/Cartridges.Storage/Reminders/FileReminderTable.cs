// Durable reminders for the Local profile. Orleans ships in-memory and database reminder tables only; the in-memory
// one forgets every reminder when the process ends, so a cartridge that was generating or training when its silo
// stopped would wait for the next request to resume. This table keeps the rows in one small JSON file, replaced
// atomically on each change, so the silo that next opens the data directory ticks the same reminders.
using System.Globalization;
using System.Text.Json;
using Cartridges.Storage.Blobs;
using Orleans.Runtime;

namespace Cartridges.Storage.Reminders;

/// <summary>An Orleans reminder table in a JSON file (one silo per data directory, like the rest of the Local profile).</summary>
public sealed class FileReminderTable : IReminderTable
{
    readonly string _path;
    readonly SemaphoreSlim _lock = new(1, 1);

    /// <summary>Keeps reminders in <paramref name="path"/> (its directory is created if missing).</summary>
    public FileReminderTable(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
    }

    /// <summary>The file holding the rows.</summary>
    public string FilePath => _path;

    /// <inheritdoc />
    public Task Init() => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    /// <inheritdoc />
    public async Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken)
    {
        var key = grainId.ToString();
        var rows = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return new ReminderTableData(rows.Where(r => r.Grain == key).Select(r => r.ToEntry()));
    }

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    /// <inheritdoc />
    public async Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(cancellationToken).ConfigureAwait(false);
        // The ring range (begin, end], wrapping around when begin >= end (then it covers the whole ring if equal).
        return new ReminderTableData(rows.Select(r => r.ToEntry()).Where(e => InRange(e.GrainId.GetUniformHashCode(), begin, end)));
    }

    /// <inheritdoc />
    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRow(grainId, reminderName, CancellationToken.None);

    /// <inheritdoc />
    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var key = grainId.ToString();
        var rows = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault(r => r.Grain == key && r.Name == reminderName)?.ToEntry();
    }

    /// <inheritdoc />
    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    /// <inheritdoc />
    public async Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var etag = Guid.NewGuid().ToString("N");
        await ChangeAsync(rows =>
        {
            rows.RemoveAll(r => r.Grain == entry.GrainId.ToString() && r.Name == entry.ReminderName);
            rows.Add(Row.From(entry, etag));
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return etag;
    }

    /// <inheritdoc />
    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    /// <inheritdoc />
    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        var key = grainId.ToString();
        // Like the database tables: only the holder of the current ETag removes the row.
        return ChangeAsync(rows => rows.RemoveAll(r => r.Grain == key && r.Name == reminderName && r.ETag == eTag) > 0, cancellationToken);
    }

    /// <inheritdoc />
    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    /// <inheritdoc />
    public Task TestOnlyClearTable(CancellationToken cancellationToken) => ChangeAsync(rows =>
    {
        rows.Clear();
        return true;
    }, cancellationToken);

    static bool InRange(uint hash, uint begin, uint end) => begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    async Task<List<Row>> ReadAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await LoadAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    async Task<bool> ChangeAsync(Func<List<Row>, bool> change, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var rows = await LoadAsync(ct).ConfigureAwait(false);
            if (!change(rows)) return false;
            var temp = AtomicFile.TempPathFor(_path);
            try
            {
                await using (var stream = AtomicFile.CreateTemp(temp))
                {
                    await JsonSerializer.SerializeAsync(stream, rows, cancellationToken: ct).ConfigureAwait(false);
                    await AtomicFile.CommitAsync(stream, ct).ConfigureAwait(false);
                }
                File.Move(temp, _path, overwrite: true);
            }
            catch
            {
                AtomicFile.TryDelete(temp);
                throw;
            }
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    async Task<List<Row>> LoadAsync(CancellationToken ct)
    {
        if (!File.Exists(_path)) return [];
        await using var stream = File.OpenRead(_path);
        try
        {
            return await JsonSerializer.DeserializeAsync<List<Row>>(stream, cancellationToken: ct).ConfigureAwait(false) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The reminder table {Path.GetFileName(_path)} is not valid JSON ({e.Message}); move it aside to start without reminders.", e);
        }
    }

    /// <summary>One reminder as stored: the grain id in its string form, the first tick in UTC.</summary>
    sealed record Row(string Grain, string Name, DateTime StartAt, TimeSpan Period, string ETag)
    {
        public static Row From(ReminderEntry e, string etag) => new(e.GrainId.ToString(), e.ReminderName, e.StartAt.ToUniversalTime(), e.Period, etag);

        public ReminderEntry ToEntry() => new()
        {
            GrainId = GrainId.Parse(Grain, CultureInfo.InvariantCulture),
            ReminderName = Name,
            StartAt = DateTime.SpecifyKind(StartAt, DateTimeKind.Utc),
            Period = Period,
            ETag = ETag,
        };
    }
}
