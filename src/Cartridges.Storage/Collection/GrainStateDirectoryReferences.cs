// Blob references of the Local profile: every grain state file under the data directory's grain-state folder.
namespace Cartridges.Storage.Collection;

/// <summary>Reads the blob hashes named by the state files of a <see cref="GrainStorage.FileGrainStorage"/> directory.</summary>
public sealed class GrainStateDirectoryReferences(string directory) : IBlobReferenceSource
{
    /// <inheritdoc />
    public async Task<IReadOnlySet<string>> ReferencedBlobsAsync(CancellationToken ct = default)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(directory)) return found;
        foreach (var file in Directory.EnumerateFiles(directory, "*.state"))
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(file, ct).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                continue; // replaced or removed meanwhile: its successor was written after the blob it names
            }
            BlobHashScanner.Scan(bytes, found);
        }
        return found;
    }
}
