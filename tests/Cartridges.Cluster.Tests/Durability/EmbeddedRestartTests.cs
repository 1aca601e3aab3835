using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Hosting;

namespace Cartridges.Cluster.Tests.Durability;

/// <summary>An embedded (in-process) silo that goes away mid-training, as a CLI command does when it exits.</summary>
public sealed class EmbeddedRestartTests
{
    [Theory]
    [InlineData(CartridgeState.Generating)]
    [InlineData(CartridgeState.Training)]
    public async Task SiloDisposedMidWork_LeavesTheCartridgeResumable_AndTheNextSiloFinishesIt(CartridgeState stopIn)
    {
        var data = Directory.CreateTempSubdirectory("cartridges-embedded-restart-").FullName;
        try
        {
            var tiny = ClusterHarness.TinySpec(ClusterHarness.Corpus("lighthouse-chronicle.txt")[..3000], steps: 24, checkpointEvery: 2);
            // Many small shards, so the silo can go away between two of them.
            var spec = tiny with { Synthesis = tiny.Synthesis with { Conversations = 24, ConversationsPerShard = 2 } };
            await using (var first = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu"))
            {
                var grain = first.Grains.GetGrain<ICartridgeGrain>("local/resume");
                await grain.CreateAsync(spec);
                await grain.StartAsync();
                var deadline = DateTime.UtcNow.AddMinutes(3);
                CartridgeStatus s;
                while ((s = await grain.GetStatusAsync()) is not ({ State: CartridgeState.Training, Step: >= 2 } or { State: CartridgeState.Generating, ShardsDone: >= 2 })
                       || s.State != stopIn)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"still {s.State} at step {s.Step}");
                    Assert.NotEqual(CartridgeState.Failed, s.State);
                    await Task.Delay(20);
                }
            } // the silo stops while the cartridge generates or trains

            await using var second = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu");
            var again = second.Grains.GetGrain<ICartridgeGrain>("local/resume");
            var after = await again.GetStatusAsync();
            Assert.True(after.State is CartridgeState.Generating or CartridgeState.Training or CartridgeState.Serving, $"{after.State}: {after.Error}");
            Assert.Null(after.Error);
            await ClusterHarness.WaitForServingAsync(again, TimeSpan.FromMinutes(3));
            var served = await again.GetStatusAsync();
            Assert.Equal(24, served.Step);
            if (stopIn == CartridgeState.Training) Assert.True(served.ResumedFromStep >= 2, $"resumed from step {served.ResumedFromStep}");
            Assert.Equal(served.ShardsTotal, served.ShardsDone);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
