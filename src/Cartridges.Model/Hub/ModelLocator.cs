// Entry point for "load model X": X is a local directory, or a Hugging Face id that is served from
// the local huggingface_hub cache when complete there (no network at all) and downloaded otherwise.
namespace Cartridges.Model.Hub;

/// <summary>Turns a model directory or a Hugging Face id (`owner/name[@revision]`) into a local directory.</summary>
public static class ModelLocator
{
    /// <summary>
    /// Returns the full path of an existing directory, else the cache snapshot directory of the hub
    /// model, downloading missing files (config, tokenizer, safetensors weights) unless offline.
    /// Null options mean <see cref="HubOptions.FromEnvironment"/>.
    /// </summary>
    public static async Task<string> ResolveAsync(string modelDirOrId, HubOptions? options = null,
        IProgress<HubDownloadProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirOrId);
        if (Directory.Exists(modelDirOrId))
            return Path.GetFullPath(modelDirOrId);

        // Written as a path (./x, ../x, /x, ~/x, a\b, a/b/c): a missing directory, never a Hugging Face id to try online.
        if (modelDirOrId.StartsWith('.') || modelDirOrId.StartsWith('/') || modelDirOrId.StartsWith('~') || modelDirOrId.Contains('\\')
            || modelDirOrId.Split('@')[0].Count(c => c == '/') > 1)
        {
            var why = ".";
            try
            {
                HubRepoId.Parse(modelDirOrId);
            }
            catch (ArgumentException e)
            {
                why = $", and {e.Message}";
            }
            throw new ArgumentException($"Model directory `{modelDirOrId}` does not exist{Near(modelDirOrId)}{why}", nameof(modelDirOrId));
        }

        HubRepoId repo;
        try
        {
            repo = HubRepoId.Parse(modelDirOrId);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"No directory `{modelDirOrId}` exists, and {e.Message}", nameof(modelDirOrId), e);
        }

        options ??= HubOptions.FromEnvironment();
        var cache = new HubCache(options.CacheDir ?? HubEnvironment.CacheDir(), repo);
        var commit = cache.ReadCommit();
        var missing = commit is null ? null : ModelFiles.Missing(cache, commit);
        if (commit is not null && missing is { Count: 0 })
            return cache.SnapshotDir(commit);
        if (options.Offline)
            throw new HubException(commit is null
                ? $"Offline (HF_HUB_OFFLINE) and {repo} is not in the cache at {cache.Root}."
                : $"Offline (HF_HUB_OFFLINE) and {repo} is incomplete in the cache at {cache.Root}: missing {string.Join(", ", missing!)}.");

        using var client = new HubFileClient(options, repo);
        try
        {
            return await new HubModelDownloader(cache, client, repo, options, progress).DownloadAsync(ct);
        }
        catch (HubException e) when (Directory.Exists(Path.GetDirectoryName(modelDirOrId)))
        {
            // "models/typo" reads as an id too; where its folder exists locally, a mistyped directory is the likelier mistake.
            throw new HubException($"No model directory `{modelDirOrId}` exists{Near(modelDirOrId)}, and as a Hugging Face id: {e.Message}", e.StatusCode, e);
        }
    }

    // What the parent folder of a missing model directory holds, to spot a typo.
    static string Near(string path)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(path.StartsWith('~')
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~', '/'))
            : path));
        if (parent is null || !Directory.Exists(parent)) return "";
        var names = Directory.EnumerateDirectories(parent).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(8).ToList();
        return names.Count == 0 ? $" (`{parent}` is empty)" : $" (`{parent}` holds: {string.Join(", ", names)})";
    }
}
