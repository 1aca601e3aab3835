// Content address of a stored blob.
namespace Cartridges.Storage.Blobs;

/// <summary>A blob's identity: the lowercase hex SHA-256 of its bytes and their count.</summary>
public readonly record struct BlobRef(string Sha256, long Length);
