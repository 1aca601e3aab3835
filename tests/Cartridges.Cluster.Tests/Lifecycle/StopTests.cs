using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace Cartridges.Cluster.Tests.Lifecycle;

/// <summary>Stop in each state, start after stop, delete in every state.</summary>
public sealed class StopTests(SingleSiloCluster cluster, ITestOutputHelper output) : IClassFixture<SingleSiloCluster>
{
    IClusterClient Client => cluster.Harness.Client;
    static readonly string Corpus = ClusterHarness.Corpus("lighthouse-chronicle.txt")[..3000];

    static async Task<CartridgeStatus> WaitAsync(ICartridgeGrain grain, Func<CartridgeStatus, bool> until, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var s = await grain.GetStatusAsync();
            if (until(s)) return s;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"still {s.State} ({s.ShardsDone}/{s.ShardsTotal} shards, step {s.Step})");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Stop_WhileGenerating_KeepsFinishedShards_AndStartGoesOnToServing()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/stop-generating");
        // Many small shards, so generation is still under way when the stop arrives.
        var spec = ClusterHarness.TinySpec(Corpus, steps: 2) with { Synthesis = ClusterHarness.TinySpec(Corpus).Synthesis with { Conversations = 96, ConversationsPerShard = 2 } };
        await grain.CreateAsync(spec);
        Assert.Equal(CartridgeState.Untrained, (await grain.StopAsync()).State); // nothing to stop
        await grain.StartAsync();
        await WaitAsync(grain, s => s.ShardsDone >= 2, TimeSpan.FromMinutes(2));
        var stopped = await grain.StopAsync();
        output.WriteLine($"stopped at {stopped.ShardsDone}/{stopped.ShardsTotal} shards");
        Assert.Equal(CartridgeState.Stopped, stopped.State);
        Assert.InRange(stopped.ShardsDone, 2, stopped.ShardsTotal - 1);
        await Task.Delay(500);
        var later = await grain.GetStatusAsync();
        Assert.Equal(CartridgeState.Stopped, later.State); // nothing goes on in the background
        Assert.Equal(stopped.ShardsDone, later.ShardsDone);

        await grain.StartAsync();
        var states = await ClusterHarness.WaitForServingAsync(grain, TimeSpan.FromMinutes(4));
        var serving = await grain.GetStatusAsync();
        Assert.Equal(CartridgeState.Serving, serving.State);
        Assert.Equal(serving.ShardsTotal, serving.ShardsDone);
        Assert.Equal(CartridgeState.Serving, (await grain.StopAsync()).State); // nothing to stop
        Assert.True((await grain.AskAsync("Who keeps the log?", new AskOptions { MaxTokens = 4 })).CompletionTokens > 0);
        await grain.DeleteAsync();
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
        output.WriteLine("states after restart: " + string.Join(" → ", states.Distinct()));
    }

    [Fact]
    public async Task Stop_WhileTraining_KeepsTheCheckpoint_AndDeleteWorksWhileRunning()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/stop-training");
        await grain.CreateAsync(ClusterHarness.TinySpec(Corpus, steps: 400, checkpointEvery: 2));
        await grain.StartAsync();
        await WaitAsync(grain, s => s.State == CartridgeState.Training && s.Step >= 3, TimeSpan.FromMinutes(3));
        var stopped = await grain.StopAsync();
        output.WriteLine($"stopped at step {stopped.Step}");
        Assert.Equal(CartridgeState.Stopped, stopped.State);
        Assert.InRange(stopped.Step, 2, 399);
        Assert.True(stopped.ShardsDone == stopped.ShardsTotal);

        // Started again, it resumes training from the checkpoint (not from synthesis) …
        var restarted = await grain.StartAsync();
        Assert.Equal(CartridgeState.Training, restarted.State);
        await WaitAsync(grain, s => s.Step > stopped.Step, TimeSpan.FromMinutes(2));
        // … and DELETE while it trains stops it and removes it.
        await grain.DeleteAsync();
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
        await Task.Delay(500);
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
    }
}
