using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Cartridge;
using Cartridges.Grains.Hosting;
using Cartridges.Storage;
using Cartridges.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Storage;

namespace Cartridges.Cluster.Tests.Durability;

/// <summary>The silo's collection pass on a real Local data directory: garbage goes, nothing a cartridge names does.</summary>
public sealed class BlobCollectionTests
{
    [Fact]
    public async Task Collection_DeletesDeletedCartridgesBlobsAndStrays_ButNoBlobAServingCartridgeNames()
    {
        var data = Directory.CreateTempSubdirectory("cartridges-gc-").FullName;
        // No grace, so everything unreferenced is collectable at once; the timer itself stays off.
        var settings = new Dictionary<string, string?> { ["Cartridges:CollectionGrace"] = "00:00:00", ["Cartridges:CollectionInterval"] = "00:00:00" };
        try
        {
            var text = ClusterHarness.Corpus("lighthouse-chronicle.txt");
            string kept;
            await using (var silo = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu", settings))
            {
                foreach (var (key, corpus) in new[] { ("local/kept", text[..2000]), ("local/gone", text[4000..6000]) })
                {
                    var grain = silo.Grains.GetGrain<ICartridgeGrain>(key);
                    await grain.CreateAsync(ClusterHarness.TinySpec(corpus, steps: 6, checkpointEvery: 2));
                    await grain.StartAsync();
                    await ClusterHarness.WaitForServingAsync(grain, TimeSpan.FromMinutes(3));
                }
                var gone = (await silo.Grains.GetGrain<ICartridgeGrain>("local/gone").GetStatusAsync()).CartridgeBlob!;
                await silo.Grains.GetGrain<ICartridgeGrain>("local/gone").DeleteAsync();
                await using (var stray = new MemoryStream("left over by a run that never recorded it"u8.ToArray()))
                    await silo.Services.GetRequiredService<IBlobStore>().PutAsync(stray);

                // Every blob the kept cartridge's stored state names: corpus, shards, checkpoint files, tensors.
                var record = new GrainState<CartridgeRecord>();
                await silo.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Cartridges)
                    .ReadStateAsync("cartridge", silo.Grains.GetGrain<ICartridgeGrain>("local/kept").GetGrainId(), record);
                var state = record.State!;
                var named = new[] { state.CorpusBlob!, state.CartridgeBlob! }
                    .Concat(state.Shards.Values).Concat(state.Checkpoint!.Files.Values).ToHashSet();
                Assert.True(named.Count >= 5, $"only {named.Count} blobs named");
                kept = state.CartridgeBlob!;

                var blobs = silo.Services.GetRequiredService<IBlobStore>();
                var before = await CountAsync(blobs);
                var collector = silo.Services.GetServices<IHostedService>().OfType<StorageCollectionService>().Single();
                await collector.CollectOnceAsync(CancellationToken.None);

                foreach (var blob in named) await blobs.VerifyAsync(blob); // all there, all intact
                Assert.False(await blobs.ExistsAsync(gone));
                Assert.True(await CountAsync(blobs) < before - 1, "the deleted cartridge's blobs and the stray were collected");
            }

            // A fresh silo loads the kept cartridge's tensors from the collected store and answers.
            await using var again = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu", settings);
            var answer = await again.Grains.GetGrain<ICartridgeGrain>("local/kept").AskAsync("Who keeps the log?", new AskOptions { MaxTokens = 4 });
            Assert.True(answer.CompletionTokens > 0);
            Assert.Equal(kept, (await again.Grains.GetGrain<ICartridgeGrain>("local/kept").GetStatusAsync()).CartridgeBlob);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    static async Task<int> CountAsync(IBlobStore blobs)
    {
        var n = 0;
        await foreach (var _ in blobs.ListAsync()) n++;
        return n;
    }
}
