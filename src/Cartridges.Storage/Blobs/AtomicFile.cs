// Temp-file-then-rename writes, so readers see either the old file or the complete new one, never a prefix.
namespace Cartridges.Storage.Blobs;

internal static class AtomicFile
{
    /// <summary>A unique temp path in the target's directory: rename is only atomic within one file system.</summary>
    public static string TempPathFor(string path)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        return Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
    }

    public static FileStream CreateTemp(string tempPath) =>
        new(tempPath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            BufferSize = 1 << 16,
        });

    /// <summary>Flushes the data to the disk before the rename makes it visible, so a crash cannot publish a hole.</summary>
    public static async Task CommitAsync(FileStream temp, CancellationToken ct)
    {
        await temp.FlushAsync(ct).ConfigureAwait(false);
        temp.Flush(flushToDisk: true);
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
