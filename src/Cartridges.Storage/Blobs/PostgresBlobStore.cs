// IBlobStore in PostgreSQL (deploy/sql/005-blobs.sql): for clusters without a shared volume.
using System.Data;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace Cartridges.Storage.Blobs;

/// <summary>Blobs as ordered <c>bytea</c> chunks in <c>cartridges_blob_chunks</c>, each blob written in one transaction.</summary>
/// <remarks>The schema comes from <see cref="Database.SchemaMigrator"/>; this class does not create tables.</remarks>
public sealed class PostgresBlobStore : IBlobStore, IAsyncDisposable, IDisposable
{
    /// <summary>4 MiB: large enough for few round trips, small enough to keep memory and WAL records modest.</summary>
    public const int DefaultChunkSize = 4 << 20;

    private readonly NpgsqlDataSource _dataSource;
    private readonly int _chunkSize;

    /// <summary>Connects with <paramref name="connectionString"/>; <paramref name="chunkSize"/> only affects new blobs.</summary>
    public PostgresBlobStore(string connectionString, int chunkSize = DefaultChunkSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _chunkSize = chunkSize;
    }

    /// <inheritdoc />
    public async Task<BlobRef> PutAsync(Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.CanSeek)
        {
            return await PutSeekableAsync(content, ct).ConfigureAwait(false);
        }

        // The primary key is the hash, known only after the last byte: spool to a file to read twice.
        var spool = Path.Combine(Path.GetTempPath(), $"cartridges-blob-{Guid.NewGuid():N}.tmp");
        try
        {
            await using var file = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            await content.CopyToAsync(file, ct).ConfigureAwait(false);
            file.Position = 0;
            return await PutSeekableAsync(file, ct).ConfigureAwait(false);
        }
        finally
        {
            AtomicFile.TryDelete(spool);
        }
    }

    /// <inheritdoc />
    public async Task<BlobRef> PutFileAsync(string path, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return await PutSeekableAsync(file, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        await using var cmd = _dataSource.CreateCommand("SELECT 1 FROM cartridges_blobs WHERE sha256 = @sha256");
        cmd.Parameters.AddWithValue("sha256", sha256);
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null;
    }

    /// <inheritdoc />
    public async Task<byte[]> ReadAllAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        var output = new MemoryStream();
        await ReadVerifiedAsync(sha256, output, ct).ConfigureAwait(false);
        return output.ToArray();
    }

    /// <inheritdoc />
    public async Task ReadToFileAsync(string sha256, string path, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var temp = AtomicFile.TempPathFor(path);
        try
        {
            await using (var file = AtomicFile.CreateTemp(temp))
            {
                await ReadVerifiedAsync(sha256, file, ct).ConfigureAwait(false);
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
    public Task VerifyAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        return ReadVerifiedAsync(sha256, Stream.Null, ct);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string sha256, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        await using var cmd = _dataSource.CreateCommand("DELETE FROM cartridges_blobs WHERE sha256 = @sha256");
        cmd.Parameters.AddWithValue("sha256", sha256);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredBlob> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT sha256, length, created FROM cartridges_blobs ORDER BY sha256");
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            yield return new StoredBlob(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2));
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteIfStoredBeforeAsync(string sha256, DateTimeOffset cutoff, CancellationToken ct = default)
    {
        BlobHash.Validate(sha256);
        // One statement: a put that refreshed the time (or re-stored the bytes) since the listing keeps the blob.
        await using var cmd = _dataSource.CreateCommand("DELETE FROM cartridges_blobs WHERE sha256 = @sha256 AND created < @cutoff");
        cmd.Parameters.AddWithValue("sha256", sha256);
        cmd.Parameters.AddWithValue("cutoff", cutoff.ToUniversalTime());
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <inheritdoc />
    public void Dispose() => _dataSource.Dispose();

    private async Task<BlobRef> PutSeekableAsync(Stream content, CancellationToken ct)
    {
        var start = content.Position;
        var (blob, chunks) = await HashAsync(content, ct).ConfigureAwait(false);
        if (await ExistsAsync(blob.Sha256, ct).ConfigureAwait(false))
        {
            if (await StoredChunksMatchAsync(blob.Sha256, chunks, ct).ConfigureAwait(false))
            {
                // A second put of stored bytes counts as fresh for collection, which spares blobs younger than its grace.
                await using var touch = _dataSource.CreateCommand("UPDATE cartridges_blobs SET created = now() WHERE sha256 = @sha256");
                touch.Parameters.AddWithValue("sha256", blob.Sha256);
                await touch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return blob;
            }
            // The stored copy went bad, lost chunks or was cut differently: replace it with these good bytes.
            await DeleteAsync(blob.Sha256, ct).ConfigureAwait(false);
        }

        content.Position = start;
        await using var conn = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO cartridges_blobs (sha256, length) VALUES (@sha256, @length) ON CONFLICT (sha256) DO NOTHING", conn, tx))
        {
            insert.Parameters.AddWithValue("sha256", blob.Sha256);
            insert.Parameters.AddWithValue("length", blob.Length);
            if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
            {
                // Another writer committed the same bytes between our check and insert.
                return blob;
            }
        }

        await using var chunk = new NpgsqlCommand(
            "INSERT INTO cartridges_blob_chunks (sha256, idx, data) VALUES (@sha256, @idx, @data)", conn, tx);
        chunk.Parameters.AddWithValue("sha256", blob.Sha256);
        var idx = chunk.Parameters.Add("idx", NpgsqlDbType.Integer);
        var data = chunk.Parameters.Add("data", NpgsqlDbType.Bytea);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[(int)Math.Min(_chunkSize, Math.Max(blob.Length, 1))];
        long written = 0;
        for (var i = 0; ; i++)
        {
            var filled = await content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            if (filled == 0)
            {
                break;
            }

            hash.AppendData(buffer, 0, filled);
            written += filled;
            idx.Value = i;
            data.Value = new ReadOnlyMemory<byte>(buffer, 0, filled);
            await chunk.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        // A stream that changed between the two passes must not be stored under the first pass's hash.
        var second = BlobHash.ToHex(hash.GetHashAndReset());
        if (second != blob.Sha256 || written != blob.Length)
        {
            throw new IOException($"The content changed while it was being stored (hashed {blob.Sha256}, then {second}).");
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return blob;
    }

    private async Task ReadVerifiedAsync(string sha256, Stream output, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        // Repeatable read: the length row and the chunks come from one snapshot even if a delete runs alongside.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        long length;
        await using (var head = new NpgsqlCommand("SELECT length FROM cartridges_blobs WHERE sha256 = @sha256", conn, tx))
        {
            head.Parameters.AddWithValue("sha256", sha256);
            length = await head.ExecuteScalarAsync(ct).ConfigureAwait(false) as long?
                ?? throw new BlobNotFoundException(sha256);
        }

        await using var cmd = new NpgsqlCommand(
            "SELECT idx, data FROM cartridges_blob_chunks WHERE sha256 = @sha256 ORDER BY idx", conn, tx);
        cmd.Parameters.AddWithValue("sha256", sha256);
        await using var reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct).ConfigureAwait(false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long total = 0;
        var expectedIdx = 0;
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var idx = reader.GetInt32(0);
            if (idx != expectedIdx++)
            {
                throw new BlobCorruptException(sha256, $"chunk {expectedIdx - 1} is missing");
            }

            await using var chunk = await reader.GetStreamAsync(1, ct).ConfigureAwait(false);
            int read;
            while ((read = await chunk.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                total += read;
            }
        }

        var actual = BlobHash.ToHex(hash.GetHashAndReset());
        if (total != length)
        {
            throw new BlobCorruptException(sha256, $"{total} bytes stored, {length} recorded");
        }

        if (actual != sha256)
        {
            throw new BlobCorruptException(sha256, $"its {total} stored bytes hash to {actual}");
        }
    }

    // The blob's hash, and the hash of each chunk as this store would cut it: a duplicate put compares those with digests
    // the server computes over the stored chunks, so checking a stored copy moves 32 bytes a chunk, not the blob.
    private async Task<(BlobRef Blob, List<string> Chunks)> HashAsync(Stream content, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = new List<string>();
        var buffer = new byte[1 << 20];
        long length = 0;
        var inChunk = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
            for (var at = 0; at < read;)
            {
                var take = Math.Min(read - at, _chunkSize - inChunk);
                chunkHash.AppendData(buffer, at, take);
                (at, inChunk) = (at + take, inChunk + take);
                if (inChunk == _chunkSize)
                {
                    chunks.Add(BlobHash.ToHex(chunkHash.GetHashAndReset()));
                    inChunk = 0;
                }
            }
        }
        if (inChunk > 0 || length == 0) chunks.Add(BlobHash.ToHex(chunkHash.GetHashAndReset()));
        return (new BlobRef(BlobHash.ToHex(hash.GetHashAndReset()), length), chunks);
    }

    // True when the stored chunks hash, chunk by chunk on the server, to what these bytes give.
    private async Task<bool> StoredChunksMatchAsync(string sha256, List<string> expected, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand(
            "SELECT encode(sha256(data), 'hex') FROM cartridges_blob_chunks WHERE sha256 = @sha256 ORDER BY idx");
        cmd.Parameters.AddWithValue("sha256", sha256);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var i = 0;
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (i >= expected.Count || reader.GetString(0) != expected[i]) return false;
            i++;
        }
        return i == expected.Count;
    }
}
