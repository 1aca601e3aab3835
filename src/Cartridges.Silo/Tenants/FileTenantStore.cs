// Tenants of the Local profile: <data>/tenants.json holding key hashes only. The CLI (`cartridges tenant add`) may
// write it while a silo runs, so writers take a lock file and replace the file atomically, and readers reload it
// whenever its timestamp or length changes (one stat per lookup: cheap next to any request).
using System.Text.Json;
using Cartridges.Abstractions;

namespace Cartridges.Silo.Tenants;

/// <summary>An <see cref="ITenantStore"/> over one JSON file.</summary>
public sealed class FileTenantStore(string path) : ITenantStore
{
    static JsonSerializerOptions Json => TenantJson.Options;

    readonly Lock _gate = new();
    (DateTime Written, long Length, Dictionary<string, TenantInfo> ByHash)? _cache;

    /// <summary>The file.</summary>
    public string Path { get; } = path;

    /// <inheritdoc />
    public ValueTask<TenantInfo?> FindByKeyAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        var file = new FileInfo(Path);
        if (!file.Exists) return ValueTask.FromResult<TenantInfo?>(null);
        lock (_gate)
        {
            if (_cache is not { } cache || cache.Written != file.LastWriteTimeUtc || cache.Length != file.Length)
            {
                var byHash = new Dictionary<string, TenantInfo>(StringComparer.Ordinal);
                foreach (var (name, tenant) in Read().Tenants)
                    foreach (var hash in tenant.KeySha256) byHash[hash] = new TenantInfo(name, tenant.Limits);
                _cache = cache = (file.LastWriteTimeUtc, file.Length, byHash);
            }
            return ValueTask.FromResult(cache.ByHash.GetValueOrDefault(ApiKeys.Hash(apiKey)));
        }
    }

    /// <inheritdoc />
    public async Task<string> AddAsync(string tenant, TenantLimits? limits = null, CancellationToken cancellationToken = default)
    {
        if (CartridgeKey.Problem(tenant, "tenant") is { } problem) throw new ArgumentException(problem, nameof(tenant));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        await using var fileLock = await LockAsync(cancellationToken);
        var document = Read();
        if (!document.Tenants.TryGetValue(tenant, out var entry))
            document.Tenants[tenant] = entry = new TenantEntry { CreatedAt = DateTimeOffset.UtcNow };
        if (limits is not null) entry.Limits = limits;
        var key = ApiKeys.NewKey();
        entry.KeySha256.Add(ApiKeys.Hash(key));
        await WriteAsync(document, cancellationToken);
        return key;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<TenantSummary>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<TenantSummary>>([.. Read().Tenants.Select(t => new TenantSummary(t.Key, t.Value.KeySha256.Count, t.Value.CreatedAt, t.Value.Limits))]);

    /// <inheritdoc />
    public async Task<int> RevokeAsync(string tenant, CancellationToken cancellationToken = default)
    {
        await using var fileLock = await LockAsync(cancellationToken);
        var document = Read();
        if (!document.Tenants.TryGetValue(tenant, out var entry)) throw new KeyNotFoundException($"There is no tenant '{tenant}' in {Path}.");
        var revoked = entry.KeySha256.Count;
        entry.KeySha256.Clear();
        await WriteAsync(document, cancellationToken);
        return revoked;
    }

    // Written beside the file and moved over it, so a reader never sees half a file; owner-only, as it lists key hashes.
    async Task WriteAsync(TenantDocument document, CancellationToken cancellationToken)
    {
        var temp = Path + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(document, Json), cancellationToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, Path, overwrite: true);
    }

    TenantDocument Read()
    {
        if (!File.Exists(Path)) return new TenantDocument();
        try
        {
            return JsonSerializer.Deserialize<TenantDocument>(File.ReadAllText(Path), Json) ?? new TenantDocument();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The tenants file '{Path}' is not valid JSON: {e.Message}", e);
        }
    }

    async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        // Another writer (a second CLI, another silo on the same data dir) holds it only for a moment.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 200)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    sealed class TenantDocument
    {
        public SortedDictionary<string, TenantEntry> Tenants { get; set; } = new(StringComparer.Ordinal);
    }

    sealed class TenantEntry
    {
        public List<string> KeySha256 { get; set; } = [];
        public DateTimeOffset CreatedAt { get; set; }
        public TenantLimits? Limits { get; set; }
    }
}
