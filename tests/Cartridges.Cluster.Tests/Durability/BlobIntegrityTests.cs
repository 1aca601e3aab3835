using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cartridges.Cluster.Tests.Durability;

/// <summary>Blobs that go bad on disk: the cartridge fails with a clear error instead of every ask failing, and start rebuilds it.</summary>
public sealed class BlobIntegrityTests
{
    static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    // The two cartridges read different parts of the text, so they share no shard and no tensors (tiny cartridges made
    // from the same first tokens can come out byte-identical, and then one's rebuild would restore the other's blob).
    static string CorpusOf(string key) => key.EndsWith("orphan", StringComparison.Ordinal)
        ? ClusterHarness.Corpus("lighthouse-chronicle.txt")[2000..4000]
        : ClusterHarness.Corpus("lighthouse-chronicle.txt")[..2000];

    static string BlobPath(string data, string sha256) => Path.Combine(data, "blobs", sha256[..2], sha256[2..4], sha256);

    static async Task<(string Data, string Tensors)> ServingCartridgeAsync(string key, params string[] more)
    {
        var data = Directory.CreateTempSubdirectory("cartridges-integrity-").FullName;
        await using var silo = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu");
        string? tensors = null;
        foreach (var k in more.Prepend(key))
        {
            var grain = silo.Grains.GetGrain<ICartridgeGrain>(k);
            await grain.CreateAsync(ClusterHarness.TinySpec(CorpusOf(k), steps: 4));
            await grain.StartAsync();
            await ClusterHarness.WaitForServingAsync(grain, TimeSpan.FromMinutes(3));
            tensors ??= (await grain.GetStatusAsync()).CartridgeBlob;
        }
        return (data, tensors!);
    }

    [Fact]
    public async Task CorruptTensors_FailTheCartridgeClearly_ReadinessListsIt_AndStartRebuildsIt()
    {
        var (data, tensors) = await ServingCartridgeAsync("local/damaged");
        try
        {
            // One flipped byte in the stored cartridge file, found when a fresh silo loads it.
            var path = BlobPath(data, tensors);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[bytes.Length / 2] ^= 0x5A;
            await File.WriteAllBytesAsync(path, bytes);

            await using var silo = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu");
            var grain = silo.Grains.GetGrain<ICartridgeGrain>("local/damaged");
            var e = await Assert.ThrowsAsync<CartridgeException>(() => grain.AskAsync("Who keeps the log?", new AskOptions { MaxTokens = 4 }));
            Assert.Equal(CartridgeException.NotReady, e.Code);
            Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(data, e.Message, StringComparison.Ordinal); // no server paths

            var failed = await grain.GetStatusAsync();
            Assert.Equal(CartridgeState.Failed, failed.State);
            Assert.True(failed.Retryable);
            Assert.Contains("trained tensors are corrupt", failed.Error, StringComparison.Ordinal);
            var broken = silo.Services.GetRequiredService<CartridgeIntegrity>().Broken;
            Assert.Equal("local/damaged", Assert.Single(broken).Key);

            // Start rebuilds the tensors from the intact checkpoint and shards; the good bytes replace the bad copy.
            await grain.StartAsync();
            await ClusterHarness.WaitForServingAsync(grain, TimeSpan.FromMinutes(3));
            Assert.Empty(silo.Services.GetRequiredService<CartridgeIntegrity>().Broken);
            Assert.True((await grain.AskAsync("Who keeps the log?", new AskOptions { MaxTokens = 4 })).CompletionTokens > 0);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task MissingShardsAndCheckpoint_AreRegenerated_ButALostCorpusIsAPermanentFailure()
    {
        var (data, _) = await ServingCartridgeAsync("local/rebuild", "local/orphan");
        try
        {
            await using var silo = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu");
            var grain = silo.Grains.GetGrain<ICartridgeGrain>("local/rebuild");
            var before = await grain.GetStatusAsync();
            // Every blob of the data directory except the corpora goes missing: the tensors, shards and checkpoints.
            var corpora = new HashSet<string>(StringComparer.Ordinal);
            foreach (var k in new[] { "local/rebuild", "local/orphan" })
                corpora.Add(Sha256(CorpusOf(k)));
            foreach (var file in Directory.EnumerateFiles(Path.Combine(data, "blobs"), "*", SearchOption.AllDirectories))
                if (!corpora.Contains(Path.GetFileName(file)) && Path.GetFileName(file).Length == 64) File.Delete(file);

            var orphanTensors = (await silo.Grains.GetGrain<ICartridgeGrain>("local/orphan").GetStatusAsync()).CartridgeBlob!;
            Assert.False(File.Exists(BlobPath(data, orphanTensors)), "swept");
            Assert.Equal(CartridgeState.Failed, (await grain.VerifyAsync()).State);
            // The shards are gone, so the retry starts from generation again rather than training on nothing.
            var started = await grain.StartAsync();
            Assert.Equal(CartridgeState.Generating, started.State);
            Assert.Equal(0, started.ShardsDone);
            await ClusterHarness.WaitForServingAsync(grain, TimeSpan.FromMinutes(3));
            var after = await grain.GetStatusAsync();
            Assert.Equal(before.ShardsTotal, after.ShardsDone);
            Assert.Equal(0, after.ResumedFromStep); // the checkpoint was gone: trained from the start
            Assert.True((await grain.AskAsync("Who keeps the log?", new AskOptions { MaxTokens = 4 })).CompletionTokens > 0);

            // Without its corpus nothing can be rebuilt: start refuses with a permanent failure.
            var orphan = silo.Grains.GetGrain<ICartridgeGrain>("local/orphan");
            var corpus = corpora.First(c => c != Sha256(CorpusOf("local/rebuild")));
            Assert.True(File.Exists(BlobPath(data, corpus)), "the orphan's corpus blob is where the test looks");
            File.Delete(BlobPath(data, corpus));
            Assert.False(File.Exists(BlobPath(data, orphanTensors)), "still swept after the rebuild");
            var verified = await orphan.VerifyAsync();
            Assert.True(verified.State == CartridgeState.Failed, $"{verified.State} {verified.Error} {verified.CartridgeBlob}");
            var refused = await Assert.ThrowsAsync<CartridgeException>(() => orphan.StartAsync());
            Assert.Equal(CartridgeException.Conflict, refused.Code);
            Assert.Contains("corpus is missing", refused.Message, StringComparison.Ordinal);
            var status = await orphan.GetStatusAsync();
            Assert.Equal(CartridgeState.Failed, status.State);
            Assert.False(status.Retryable);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
