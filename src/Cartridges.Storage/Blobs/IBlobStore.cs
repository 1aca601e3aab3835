// Content-addressed storage for large immutable data (corpora, shards, checkpoints, cartridge tensors).
namespace Cartridges.Storage.Blobs;

/// <summary>Stores blobs by the SHA-256 of their content, verifies them on read and writes them atomically.</summary>
public interface IBlobStore
{
    /// <summary>Stores the stream's bytes; the same bytes give the same reference and are stored once.</summary>
    Task<BlobRef> PutAsync(Stream content, CancellationToken ct = default);

    /// <summary>Stores the bytes of the file at <paramref name="path"/>.</summary>
    Task<BlobRef> PutFileAsync(string path, CancellationToken ct = default);

    /// <summary>Whether a blob with this hash is stored.</summary>
    Task<bool> ExistsAsync(string sha256, CancellationToken ct = default);

    /// <summary>Reads a whole blob, throwing <see cref="BlobNotFoundException"/> or <see cref="BlobCorruptException"/>.</summary>
    Task<byte[]> ReadAllAsync(string sha256, CancellationToken ct = default);

    /// <summary>Writes a verified blob to <paramref name="path"/>; on any failure no file (or the previous one) is left there.</summary>
    Task ReadToFileAsync(string sha256, string path, CancellationToken ct = default);

    /// <summary>Reads a blob through and checks its hash, throwing <see cref="BlobNotFoundException"/> or <see cref="BlobCorruptException"/>.</summary>
    Task VerifyAsync(string sha256, CancellationToken ct = default);

    /// <summary>Deletes a blob; false when it was not stored.</summary>
    Task<bool> DeleteAsync(string sha256, CancellationToken ct = default);

    /// <summary>Every stored blob with its length and when it was last stored (a put of bytes already stored refreshes it).</summary>
    IAsyncEnumerable<StoredBlob> ListAsync(CancellationToken ct = default);

    /// <summary>
    /// Deletes a blob only if it was last stored before <paramref name="cutoff"/>, so a concurrent put of the same bytes
    /// (which refreshes the time) keeps it; false when it was not deleted.
    /// </summary>
    Task<bool> DeleteIfStoredBeforeAsync(string sha256, DateTimeOffset cutoff, CancellationToken ct = default);
}
