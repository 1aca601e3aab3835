// IBlobStore on a directory (the Local profile, or a volume shared by the silos in Kubernetes).
using System.Security.Cryptography;

namespace Cartridges.Storage.Blobs;

/// <summary>Blobs as files named by their hash under <c>root/ab/cd/&lt;hash&gt;</c>, written via temp file + rename.</summary>
public sealed class FileBlobStore : IBlobStore
{
    private const int BufferSize = 1 << 20;
    private readonly string _root;
    private readonly string _tempDir;

    /// <summary>Uses (and creates) <paramref name="root"/>.</summary>
    public FileBlobStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
        _tempDir = Path.Combine(_root, "tmp");
        Directory.CreateDirectory(_tempDir);
    }

    /// <summary>The directory holding the blobs.</summary>
    public string Root => _root;

    /// <inheritdoc />
    public async Task<BlobRef> PutAsync(Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        // The name is only known once every byte is hashed, so the bytes go to a temp file first.
        var temp = Path.Combine(_tempDir, $"{Guid.NewGuid():N}.tmp");
        try
        {
            BlobRef blob;
            await using (var file = AtomicFile.CreateTemp(temp))
            {
                blob = await CopyHashingAsync(content, file, ct).ConfigureAwait(false);
                await AtomicFile.CommitAsync(file, ct).ConfigureAwait(false);
            }

            var target = PathOf(blob.Sha256);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            // The temp file holds bytes just hashed to this name, so renaming it over whatever is stored is always right:
            // a corrupt or truncated copy is replaced without reading it back, readers of the old file keep their open
            // handle, and a concurrent writer of the same hash writes the same bytes. The fresh file's time also marks a
            // second put as recent for collection, which spares blobs younger than its grace.
            File.Move(temp, target, overwrite: true);
            File.SetLastWriteTimeUtc(target, DateTime.UtcNow);
            return blob;
        }
        finally
        {
            AtomicFile.TryDelete(temp);
        }
    }

    /// <inheritdoc />
    public async Task<BlobRef> PutFileAsync(string path, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        await using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        return await PutAsync(source, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        return Task.FromResult(File.Exists(PathOf(sha256)));
    }

    /// <inheritdoc />
    public async Task<byte[]> ReadAllAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(PathOf(sha256), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobNotFoundException(sha256);
        }

        var actual = BlobHash.Of(data);
        if (actual != sha256)
        {
            throw new BlobCorruptException(sha256, $"its {data.Length} stored bytes hash to {actual}");
        }

        return data;
    }

    /// <inheritdoc />
    public async Task ReadToFileAsync(string sha256, string path, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var source = OpenStored(sha256);

        var temp = AtomicFile.TempPathFor(path);
        try
        {
            await using (source)
            await using (var file = AtomicFile.CreateTemp(temp))
            {
                CheckHash(sha256, await CopyHashingAsync(source, file, ct).ConfigureAwait(false));

                await AtomicFile.CommitAsync(file, ct).ConfigureAwait(false);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            AtomicFile.TryDelete(temp);
        }
    }

    /// <inheritdoc />
    public async Task VerifyAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        var source = OpenStored(sha256);

        await using (source)
        {
            CheckHash(sha256, await CopyHashingAsync(source, Stream.Null, ct).ConfigureAwait(false));
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        var path = PathOf(sha256);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        return Task.FromResult(true);
    }

    /// <summary>Opens a stored blob for reading; a missing one is <see cref="BlobNotFoundException"/>.</summary>
    private FileStream OpenStored(string sha256)
    {
        try
        {
            return new FileStream(PathOf(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobNotFoundException(sha256);
        }
    }

    private static void CheckHash(string sha256, BlobRef read)
    {
        if (read.Sha256 != sha256)
        {
            throw new BlobCorruptException(sha256, $"its {read.Length} stored bytes hash to {read.Sha256}");
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredBlob> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
        {
            ct.ThrowIfCancellationRequested();
            var name = Path.GetFileName(file);
            // Only files at their content address count (temp files and strays are not blobs).
            if (name.Length != 64 || !name.All(char.IsAsciiHexDigitLower) || PathOf(name) != file)
            {
                continue;
            }

            var info = new FileInfo(file);
            if (info.Exists)
            {
                yield return new StoredBlob(name, info.Length, info.LastWriteTimeUtc);
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteIfStoredBeforeAsync(string sha256, DateTimeOffset cutoff, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        var info = new FileInfo(PathOf(sha256));
        // Within this process and for puts that finished before this check, the time test is exact; a put racing the
        // delete itself re-creates the file from its own temp copy, which stays intact.
        if (!info.Exists || info.LastWriteTimeUtc >= cutoff.UtcDateTime)
        {
            return Task.FromResult(false);
        }

        info.Delete();
        return Task.FromResult(true);
    }

    /// <summary>Where a blob lives; two fan-out levels keep directories small with millions of blobs.</summary>
    internal string PathOf(string sha256) => Path.Combine(_root, sha256[..2], sha256[2..4], sha256);

    private static async Task<BlobRef> CopyHashingAsync(Stream source, Stream destination, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferSize];
        long length = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            length += read;
        }

        return new BlobRef(BlobHash.ToHex(hash.GetHashAndReset()), length);
    }
}
