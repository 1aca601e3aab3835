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
        return await new HubModelDownloader(cache, client, repo, options, progress).DownloadAsync(ct);
    }
}
