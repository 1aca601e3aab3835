// Collection of blobs no grain state names any more (replaced checkpoints, deleted cartridges, failed runs' shards).
// Blobs are written before the state that names them, so a young blob may be unreferenced only because its state
// write is still coming: the grace period spares everything stored (or put again) recently, and the delete itself
// re-checks that time, so a put racing the collection keeps its blob.
using Cartridges.Storage.Blobs;

namespace Cartridges.Storage.Collection;

/// <summary>What a collection pass found and did.</summary>
/// <param name="Stored">Blobs in the store.</param>
/// <param name="Referenced">Stored blobs some grain state names.</param>
/// <param name="Young">Unreferenced blobs spared by the grace period.</param>
/// <param name="Deleted">Blobs deleted (or, on a dry run, that would be).</param>
/// <param name="DeletedBytes">Their bytes.</param>
/// <param name="DryRun">Whether nothing was deleted.</param>
public sealed record CollectionReport(int Stored, int Referenced, int Young, int Deleted, long DeletedBytes, bool DryRun);

/// <summary>Deletes stored blobs that no grain state references and that are older than a grace period.</summary>
public static class BlobCollector
{
    /// <summary>One pass over <paramref name="store"/>.</summary>
    public static async Task<CollectionReport> CollectAsync(IBlobStore store, IBlobReferenceSource references, TimeSpan grace, bool dryRun = false,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero);
        var cutoff = DateTimeOffset.UtcNow - grace;
        // List before reading the references: a blob named by a state written after the scan was stored after the
        // listing began, or put again (refreshing its time past the cutoff) by whoever named it.
        var blobs = new List<StoredBlob>();
        await foreach (var blob in store.ListAsync(ct).ConfigureAwait(false)) blobs.Add(blob);
        var referenced = await references.ReferencedBlobsAsync(ct).ConfigureAwait(false);
        int inUse = 0, young = 0, deleted = 0;
        long bytes = 0;
        foreach (var blob in blobs)
        {
            if (referenced.Contains(blob.Sha256))
            {
                inUse++;
                continue;
            }
            if (blob.Stored >= cutoff)
            {
                young++;
                continue;
            }
            if (dryRun || await store.DeleteIfStoredBeforeAsync(blob.Sha256, cutoff, ct).ConfigureAwait(false))
            {
                deleted++;
                bytes += blob.Length;
            }
        }
        return new CollectionReport(blobs.Count, inUse, young, deleted, bytes, dryRun);
    }
}
