// Failures a blob read reports; both carry the hash so callers can log or re-fetch it.
namespace Cartridges.Storage.Blobs;

/// <summary>No blob with the requested hash is stored.</summary>
public sealed class BlobNotFoundException(string sha256)
    : Exception($"Blob {sha256} is not stored.")
{
    /// <summary>The hash that was requested.</summary>
    public string Sha256 { get; } = sha256;
}

/// <summary>A stored blob's bytes no longer hash to its name (or have the wrong length).</summary>
public sealed class BlobCorruptException(string sha256, string detail)
    : Exception($"Blob {sha256} is corrupt: {detail}.")
{
    /// <summary>The hash that was requested.</summary>
    public string Sha256 { get; } = sha256;
}
