// ModelLocator against FakeHubServer: cache layout, offline reuse, resume, checksums, tokens.
using System.Net;
using Cartridges.Model.Hub;

namespace Cartridges.Model.Tests.Hub;

public sealed class ModelLocatorTests
{
    const string Commit = FakeHubServer.Commit;

    static HubOptions Options(FakeHubServer server, TempHfHome home, string? token = null) => new()
    {
        Endpoint = server.Endpoint,
        CacheDir = home.Hub,
        Token = token,
        MaxRetries = 2,
        RetryDelay = TimeSpan.FromMilliseconds(10),
    };

    static string RepoDir(TempHfHome home) => Path.Combine(home.Hub, "models--acme--tiny-model");

    static string Blob(TempHfHome home, FakeHubFile file) => Path.Combine(RepoDir(home), "blobs", file.Etag);

    static List<FakeHubRequest> CdnGets(FakeHubServer server, FakeHubFile file) =>
        [.. server.Requests.Where(r => r.Method == "GET" && r.Path == $"/cdn/{file.Etag}")];

    [Fact]
    public async Task ResolveAsync_ExistingDirectory_ReturnsFullPathWithoutNetwork()
    {
        using var home = new TempHfHome();
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, home.Path);

        var dir = await ModelLocator.ResolveAsync(relative, new HubOptions { HttpMessageHandler = new NoNetworkHandler() });

        Assert.Equal(home.Path, dir);
    }

    [Fact]
    public async Task ResolveAsync_ShardedModel_DownloadsIntoHubCacheLayout()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files(sharded: true));
        var progress = new RecordingProgress();

        var dir = await ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home), progress);

        var repoDir = RepoDir(home);
        Assert.Equal(Path.Combine(repoDir, "snapshots", Commit), dir);
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(repoDir, "refs", "main")));
        foreach (var (name, file) in server.Files)
        {
            var pointer = new FileInfo(Path.Combine(dir, name));
            Assert.Equal($"../../blobs/{file.Etag}", pointer.LinkTarget);
            Assert.Equal(file.Content, File.ReadAllBytes(pointer.FullName));
            Assert.True(File.Exists(Blob(home, file)));
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(repoDir, "blobs"), "*.incomplete"));
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
        // The hub had no generation_config.json; huggingface_hub records that under .no_exist.
        Assert.True(File.Exists(Path.Combine(repoDir, ".no_exist", Commit, "generation_config.json")));
        // Only the first request names the branch; the rest are pinned to the commit it resolved to.
        Assert.Equal("/acme/tiny-model/resolve/main/config.json", server.Requests.First().Path);
        Assert.Contains(server.Requests, r => r.Path == $"/acme/tiny-model/resolve/{Commit}/{FakeModelRepo.Shard2}");
        var shard2 = server.Files[FakeModelRepo.Shard2].Content.Length;
        Assert.Contains(progress.Reports, p => p.File == FakeModelRepo.Shard2 && p.BytesDone == shard2 && p.TotalBytes == shard2);
    }

    [Fact]
    public async Task ResolveAsync_SingleFileModel_LinksWeightsAndGenerationConfig()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files(sharded: false));

        var dir = await ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home));

        Assert.Equal(server.Files["model.safetensors"].Content, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "generation_config.json")));
        Assert.DoesNotContain(server.Requests, r => r.Path.EndsWith("model.safetensors.index.json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResolveAsync_CompleteCache_ResolvesWithServerStoppedAndNoNetwork()
    {
        using var home = new TempHfHome();
        string first;
        using (var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files()))
            first = await ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home));

        var noNetwork = new HubOptions { CacheDir = home.Hub, HttpMessageHandler = new NoNetworkHandler() };
        Assert.Equal(first, await ModelLocator.ResolveAsync(FakeModelRepo.Id, noNetwork));
        Assert.Equal(first, await ModelLocator.ResolveAsync(FakeModelRepo.Id, noNetwork with { Offline = true }));
        Assert.Equal(first, await ModelLocator.ResolveAsync($"{FakeModelRepo.Id}@{Commit}", noNetwork));
    }

    [Fact]
    public async Task ResolveAsync_MissingPathShapedDirectory_FailsAtOnce_ListingItsFolder_WithoutTheHub()
    {
        using var home = new TempHfHome();
        Directory.CreateDirectory(Path.Combine(home.Path, "tiny-model"));
        var options = new HubOptions { CacheDir = home.Hub, HttpMessageHandler = new NoNetworkHandler() };
        foreach (var path in new[] { Path.Combine(home.Path, "tiny-modle"), "./no-such-model-dir", "a/b/no-such-model" })
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => ModelLocator.ResolveAsync(path, options));
            Assert.Contains($"`{path}` does not exist", e.Message);
        }
        var typo = await Assert.ThrowsAsync<ArgumentException>(() => ModelLocator.ResolveAsync(Path.Combine(home.Path, "tiny-modle"), options));
        Assert.Contains("tiny-model", typo.Message); // the folder's contents show the typo
    }

    [Fact]
    public async Task ResolveAsync_IdShapedTypoOfALocalFolder_SaysSoWhenTheHubHasNoSuchRepo()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files(sharded: false));
        var local = $"local-models-{Guid.NewGuid():N}"[..20];
        Directory.CreateDirectory(Path.Combine(local, "records-small"));
        try
        {
            var e = await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync($"{local}/records-smal", Options(server, home)));
            Assert.Contains($"No model directory `{local}/records-smal` exists", e.Message);
            Assert.Contains("records-small", e.Message);
        }
        finally
        {
            Directory.Delete(local, recursive: true);
        }
    }

    [Fact]
    public async Task ResolveAsync_OfflineAndNotCached_FailsNamingTheRepo()
    {
        using var home = new TempHfHome();
        var options = new HubOptions { CacheDir = home.Hub, Offline = true, HttpMessageHandler = new NoNetworkHandler() };

        var e = await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync(FakeModelRepo.Id, options));

        Assert.Contains("Offline", e.Message);
        Assert.Contains(FakeModelRepo.Id, e.Message);
    }

    [Fact]
    public async Task ResolveAsync_OfflineAndShardMissing_ListsTheMissingShard()
    {
        using var home = new TempHfHome();
        string dir;
        using (var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files()))
            dir = await ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home));
        File.Delete(Path.Combine(dir, FakeModelRepo.Shard2));
        var options = new HubOptions { CacheDir = home.Hub, Offline = true, HttpMessageHandler = new NoNetworkHandler() };

        var e = await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync(FakeModelRepo.Id, options));

        Assert.Contains(FakeModelRepo.Shard2, e.Message);
        Assert.DoesNotContain(FakeModelRepo.Shard1, e.Message);
    }

    [Fact]
    public async Task ResolveAsync_ConnectionDroppedMidFile_RetryResumesWithRange()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files());
        var shard = server.Files[FakeModelRepo.Shard1];
        server.DropConnection(FakeModelRepo.Shard1);

        var dir = await ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home));

        Assert.Equal(shard.Content, File.ReadAllBytes(Path.Combine(dir, FakeModelRepo.Shard1)));
        var gets = CdnGets(server, shard);
        Assert.Equal(2, gets.Count);
        Assert.Null(gets[0].Range);
        var resumedAt = long.Parse(gets[1].Range!["bytes=".Length..].TrimEnd('-'));
        Assert.InRange(resumedAt, 1, shard.Content.Length - 1);
    }

    [Fact]
    public async Task ResolveAsync_CancelledMidFile_NextRunResumesWithRange()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files());
        var shard = server.Files[FakeModelRepo.Shard2];
        server.StallFile = FakeModelRepo.Shard2;
        using var cts = new CancellationTokenSource();
        var progress = new RecordingProgress(p =>
        {
            if (p.File == FakeModelRepo.Shard2 && p.BytesDone > 0)
                cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home), progress, cts.Token));

        var snapshot = Path.Combine(RepoDir(home), "snapshots", Commit);
        var partial = new FileInfo(Blob(home, shard) + ".incomplete");
        Assert.True(partial.Exists);
        Assert.InRange(partial.Length, 1, shard.Content.Length - 1);
        Assert.False(File.Exists(Path.Combine(snapshot, FakeModelRepo.Shard2)));

        server.StallFile = null;
        server.ReleaseStall();
        var dir = await ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home));

        Assert.Equal(shard.Content, File.ReadAllBytes(Path.Combine(dir, FakeModelRepo.Shard2)));
        Assert.Equal($"bytes={partial.Length}-", CdnGets(server, shard)[^1].Range);
        Assert.False(File.Exists(partial.FullName));
    }

    [Theory]
    [InlineData(FakeModelRepo.Shard1, "sha256")]
    [InlineData("tokenizer.json", "git blob sha1")]
    public async Task ResolveAsync_CorruptedDownload_FailsWithChecksumMismatchAndLeavesNothing(string file, string hashKind)
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files());
        server.CorruptFile = file;

        var e = await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home)));

        Assert.Contains("checksum mismatch", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(file, e.Message);
        Assert.Contains(hashKind, e.Message);
        var blob = Blob(home, server.Files[file]);
        Assert.False(File.Exists(blob));
        Assert.False(File.Exists(blob + ".incomplete"));
        Assert.False(File.Exists(Path.Combine(RepoDir(home), "snapshots", Commit, file)));
    }

    [Fact]
    public async Task ResolveAsync_WithToken_SendsItToHubButNotToCdn()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files()) { RequiredToken = "hf_secret" };

        await ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home, token: "hf_secret"));

        var cdn = server.Requests.Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(cdn);
        Assert.All(cdn, r => Assert.Null(r.Authorization));
        Assert.All(server.Requests.Except(cdn), r => Assert.Equal("Bearer hf_secret", r.Authorization));
    }

    [Fact]
    public async Task ResolveAsync_NoToken_401SaysRepoAndHfToken()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files()) { RequiredToken = "hf_secret" };

        var e = await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home)));

        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.Contains(FakeModelRepo.Id, e.Message);
        Assert.Contains("config.json", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.False(Directory.Exists(Path.Combine(RepoDir(home), "snapshots")));
    }

    [Fact]
    public async Task ResolveAsync_WrongToken_SaysTheTokenWasRejected()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files()) { RequiredToken = "hf_secret" };

        var e = await Assert.ThrowsAsync<HubException>(
            () => ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home, token: "hf_wrong")));

        Assert.Contains("rejected the access token", e.Message);
    }

    [Fact]
    public async Task ResolveAsync_UnknownRevision_SaysRevisionNotFound()
    {
        using var home = new TempHfHome();
        using var server = new FakeHubServer(FakeModelRepo.Id, FakeModelRepo.Files());

        var e = await Assert.ThrowsAsync<HubException>(
            () => ModelLocator.ResolveAsync($"{FakeModelRepo.Id}@v9", Options(server, home)));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("Revision `v9`", e.Message);
    }

    [Fact]
    public async Task ResolveAsync_IndexNamingPathOutsideSnapshot_IsRefused()
    {
        using var home = new TempHfHome();
        var files = FakeModelRepo.Files();
        files["model.safetensors.index.json"] = FakeModelRepo.Json("""{"weight_map":{"w":"../../evil.safetensors"}}""");
        using var server = new FakeHubServer(FakeModelRepo.Id, files);

        var e = await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync(FakeModelRepo.Id, Options(server, home)));

        Assert.Contains("../../evil.safetensors", e.Message);
        Assert.DoesNotContain(server.Requests, r => r.Path.Contains("evil", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("tiny-model")]
    [InlineData("acme/tiny/model")]
    [InlineData("../../acme/tiny")]
    [InlineData("acme/../evil")]
    [InlineData("../tiny")]
    [InlineData("acme/tiny@../../../etc")]
    [InlineData("acme/tiny@")]
    [InlineData("acme/tiny@a@b")]
    [InlineData("acme/ti ny")]
    [InlineData("ac--me/tiny")]
    [InlineData("/acme/tiny")]
    [InlineData("acme/")]
    [InlineData("acme/tiny.git")]
    public async Task ResolveAsync_BadId_IsRejectedBeforeAnyNetworkOrCacheAccess(string id)
    {
        using var home = new TempHfHome();
        var options = new HubOptions { CacheDir = home.Hub, HttpMessageHandler = new NoNetworkHandler() };

        var e = await Assert.ThrowsAsync<ArgumentException>(() => ModelLocator.ResolveAsync(id, options));

        Assert.Contains("not a valid Hugging Face model id", e.Message);
        Assert.False(Directory.Exists(home.Hub));
    }
}
