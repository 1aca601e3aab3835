// Where collection learns which blobs are still in use.
namespace Cartridges.Storage.Collection;

/// <summary>Enumerates the blob hashes that stored grain states name.</summary>
public interface IBlobReferenceSource
{
    /// <summary>Every blob hash any stored grain state mentions (a superset is fine: it only keeps more).</summary>
    Task<IReadOnlySet<string>> ReferencedBlobsAsync(CancellationToken ct = default);
}
