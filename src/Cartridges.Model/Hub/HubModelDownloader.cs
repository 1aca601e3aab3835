// Fills one snapshot of the cache with a model's files: pins the commit with the first file, then
// fetches each missing file at that commit into blobs/ (resumable, verified against its etag) and
// links it into snapshots/. Files already in the snapshot cost no request.
namespace Cartridges.Model.Hub;

/// <summary>Downloads the files of one model into the cache.</summary>
sealed class HubModelDownloader(HubCache cache, HubFileClient client, HubRepoId repo, HubOptions options,
    IProgress<HubDownloadProgress>? progress)
{
    /// <summary>Completes the snapshot and returns its directory.</summary>
    public async Task<string> DownloadAsync(CancellationToken ct)
    {
        // Later files are fetched by commit, not branch, so a push during the download cannot mix
        // files of two commits in one snapshot.
        var commit = cache.ReadCommit() ?? await PinCommitAsync(ct);
        foreach (var file in ModelFiles.Required)
            await FetchRequiredAsync(commit, file, ct);
        await FetchAsync(commit, ModelFiles.GenerationConfig, ct);

        if (!await FetchAsync(commit, ModelFiles.SingleWeights, ct))
        {
            if (!await FetchAsync(commit, ModelFiles.WeightsIndex, ct))
                throw new HubException($"{repo} has neither {ModelFiles.SingleWeights} nor {ModelFiles.WeightsIndex} at commit {commit}; only safetensors weights are supported.");
            foreach (var shard in ModelFiles.ShardNames(cache.FilePath(commit, ModelFiles.WeightsIndex)))
                await FetchRequiredAsync(commit, shard, ct);
        }
        return cache.SnapshotDir(commit);
    }

    async Task<string> PinCommitAsync(CancellationToken ct)
    {
        var meta = await WithRetriesAsync(ModelFiles.Config, () => client.HeadAsync(repo.Revision, ModelFiles.Config, ct), ct)
            ?? throw new HubException($"{repo.RepoPath} has no {ModelFiles.Config} at revision `{repo.Revision}`; is it a transformers model?");
        cache.WriteRef(meta.Commit);
        return meta.Commit;
    }

    async Task FetchRequiredAsync(string commit, string file, CancellationToken ct)
    {
        if (!await FetchAsync(commit, file, ct))
            throw new HubException($"{repo.RepoPath} has no {file} at commit {commit}, which the model needs.");
    }

    /// <summary>Makes the file present in the snapshot; false when the hub has no such file.</summary>
    async Task<bool> FetchAsync(string commit, string file, CancellationToken ct)
    {
        if (cache.HasFile(commit, file))
            return true;
        if (cache.IsKnownMissing(commit, file))
            return false;
        return await WithRetriesAsync(file, async () =>
        {
            if (await client.HeadAsync(commit, file, ct) is not { } meta)
            {
                cache.MarkMissing(commit, file);
                return false;
            }
            // Identical contents in another revision already sit in blobs/ under the same etag.
            if (!File.Exists(cache.BlobPath(meta.Etag)))
                await DownloadBlobAsync(commit, file, meta, ct);
            cache.Link(commit, file, meta.Etag);
            return true;
        }, ct);
    }

    async Task DownloadBlobAsync(string commit, string file, HubFileMetadata meta, CancellationToken ct)
    {
        var incomplete = cache.IncompletePath(meta.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        await client.DownloadAsync(commit, file, incomplete, meta.Size, progress, ct);
        if (BlobChecksum.FindMismatch(incomplete, meta.Etag) is { } actual)
        {
            // Resuming from these bytes would only reproduce the mismatch.
            File.Delete(incomplete);
            throw new HubException($"Checksum mismatch for {file} in {repo.RepoPath}: expected {BlobChecksum.Kind(meta.Etag)} {meta.Etag}, got {actual}. The download was discarded; run again to retry.");
        }
        File.Move(incomplete, cache.BlobPath(meta.Etag), overwrite: true);
    }

    async Task<T> WithRetriesAsync<T>(string file, Func<Task<T>> attempt, CancellationToken ct)
    {
        for (var retry = 0; ; retry++)
        {
            try
            {
                return await attempt();
            }
            catch (Exception e) when (IsTransient(e, ct))
            {
                if (retry >= options.MaxRetries)
                    throw new HubException($"Fetching {file} from {repo.RepoPath} failed after {retry + 1} attempts: {e.Message} Run again to resume.", (e as HubException)?.StatusCode, e);
                await Task.Delay(options.RetryDelay * Math.Pow(2, retry), ct);
            }
        }
    }

    static bool IsTransient(Exception e, CancellationToken ct) => e switch
    {
        HubException hub => hub.IsTransient,
        HttpRequestException http => http.StatusCode is null || (int)http.StatusCode >= 500,
        IOException or TimeoutException => true,
        // HttpClient's own timeout surfaces as a cancellation the caller did not ask for.
        OperationCanceledException => !ct.IsCancellationRequested,
        _ => false,
    };
}
