// One repo's folder in the huggingface_hub cache, laid out exactly as the Python library does so
// both can share it:
//   models--{owner}--{name}/refs/{revision}           commit hash the revision pointed to
//   models--{owner}--{name}/blobs/{etag}              file contents, named by content hash
//   models--{owner}--{name}/snapshots/{commit}/{file} relative symlink to ../../blobs/{etag}
//   models--{owner}--{name}/.no_exist/{commit}/{file} marker: the hub has no such (optional) file
namespace Cartridges.Model.Hub;

/// <summary>Paths and small atomic updates inside one repo's cache folder.</summary>
sealed class HubCache(string root, HubRepoId repo)
{
    /// <summary>The cache root that holds every repo folder.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>This repo's folder, `models--owner--name`.</summary>
    public string RepoDir => Path.Combine(Root, repo.CacheFolderName);

    /// <summary>The snapshot folder of a commit, the path a caller loads the model from.</summary>
    public string SnapshotDir(string commit) => Path.Combine(RepoDir, "snapshots", commit);

    /// <summary>Where a repo file appears inside a snapshot.</summary>
    public string FilePath(string commit, string file) => Path.Combine(SnapshotDir(commit), ToLocal(file));

    /// <summary>The blob that holds the contents with this etag.</summary>
    public string BlobPath(string etag) => Path.Combine(RepoDir, "blobs", etag);

    /// <summary>Partial download of a blob; kept across runs so a restart can resume it.</summary>
    public string IncompletePath(string etag) => BlobPath(etag) + ".incomplete";

    /// <summary>The commit the revision resolves to without asking the hub, or null if unknown.</summary>
    public string? ReadCommit()
    {
        if (repo.RevisionIsCommit)
            return repo.Revision;
        var refPath = Path.Combine(RepoDir, "refs", ToLocal(repo.Revision));
        if (!File.Exists(refPath))
            return null;
        var commit = File.ReadAllText(refPath).Trim();
        return HubRepoId.IsCommitHash(commit) ? commit : null;
    }

    /// <summary>Records which commit the revision points to, as huggingface_hub does.</summary>
    public void WriteRef(string commit)
    {
        if (repo.Revision == commit)
            return;
        var refPath = Path.Combine(RepoDir, "refs", ToLocal(repo.Revision));
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        var temp = $"{refPath}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, commit);
        File.Move(temp, refPath, overwrite: true);
    }

    /// <summary>True when the snapshot has the file and, if it is a symlink, its blob exists.</summary>
    public bool HasFile(string commit, string file)
    {
        var info = new FileInfo(FilePath(commit, file));
        if (!info.Exists)
            return false;
        return info.LinkTarget is null || info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true };
    }

    /// <summary>True when an earlier run learned the hub has no such file at this commit.</summary>
    public bool IsKnownMissing(string commit, string file) =>
        File.Exists(Path.Combine(RepoDir, ".no_exist", commit, ToLocal(file)));

    /// <summary>Remembers that an optional file does not exist, so offline runs do not look for it.</summary>
    public void MarkMissing(string commit, string file)
    {
        var marker = Path.Combine(RepoDir, ".no_exist", commit, ToLocal(file));
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        File.WriteAllBytes(marker, []);
    }

    /// <summary>Makes the file appear in the snapshot: a relative symlink to its blob, or a copy where links fail.</summary>
    public void Link(string commit, string file, string etag)
    {
        var pointer = FilePath(commit, file);
        var folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        var blob = BlobPath(etag);
        // Build the new entry beside the old one and rename over it, so readers never see a gap.
        var temp = $"{pointer}.{Guid.NewGuid():N}.tmp";
        try
        {
            // Relative, so the cache still works when mounted or moved elsewhere.
            File.CreateSymbolicLink(temp, Path.GetRelativePath(folder, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // Some file systems (and Windows without developer mode) refuse symlinks.
            File.Copy(blob, temp, overwrite: true);
        }
        File.Move(temp, pointer, overwrite: true);
    }

    /// <summary>Rejects repo file names (e.g. shards named by an index) that could leave the snapshot folder.</summary>
    public static string CheckRepoFileName(string file)
    {
        var segments = file.Split('/');
        if (file.Length == 0 || file.Contains('\\') || file.Contains('\0') || Path.IsPathRooted(file)
            || segments.Any(s => s is "" or "." or ".."))
            throw new HubException($"Refusing unsafe repo file name `{file}`: it must be a relative path without `.` or `..` segments.");
        return file;
    }

    static string ToLocal(string repoPath) => repoPath.Replace('/', Path.DirectorySeparatorChar);
}
