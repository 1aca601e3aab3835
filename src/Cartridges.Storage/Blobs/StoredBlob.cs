// One entry of a blob store's listing, for collection.
namespace Cartridges.Storage.Blobs;

/// <summary>A stored blob: its hash, length and when it was last stored.</summary>
/// <param name="Sha256">The content hash (the blob's name).</param>
/// <param name="Length">Bytes.</param>
/// <param name="Stored">When it was first stored or last put again.</param>
public sealed record StoredBlob(string Sha256, long Length, DateTimeOffset Stored);
