// Work directories belong to one silo instance (named by its address, which includes its start epoch). A silo that
// crashed never deletes its own, so the living ones do: whatever sits beside them under the work root and belongs to
// no live member of the cluster is scratch nobody will resume from (the durable copies are blobs).
namespace Cartridges.Grains.Hosting;

/// <summary>Deletes the work directories of silos that are no longer alive.</summary>
public static class WorkDirectoryCollector
{
    /// <summary>
    /// Deletes the subdirectories of <paramref name="root"/> not named in <paramref name="liveSilos"/> and untouched for
    /// <paramref name="minimumAge"/> (a silo still joining may not be listed yet); returns the directories deleted.
    /// </summary>
    public static IReadOnlyList<string> Collect(string root, IReadOnlySet<string> liveSilos, TimeSpan minimumAge)
    {
        ArgumentNullException.ThrowIfNull(liveSilos);
        if (!Directory.Exists(root)) return [];
        var cutoff = DateTime.UtcNow - minimumAge;
        var deleted = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(dir);
            if (liveSilos.Contains(name) || LastTouched(dir) >= cutoff) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                deleted.Add(name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another silo on this machine is collecting the same directory; it goes either way.
            }
        }
        return deleted;
    }

    // The newest write anywhere below the directory: a dead silo's tree is quiet, a live one's is not.
    static DateTime LastTouched(string dir)
    {
        var newest = Directory.GetLastWriteTimeUtc(dir);
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories))
        {
            var t = File.GetLastWriteTimeUtc(entry);
            if (t > newest) newest = t;
        }
        return newest;
    }
}
