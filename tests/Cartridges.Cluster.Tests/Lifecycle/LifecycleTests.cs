using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Placement;
using Cartridges.Storage.Blobs;
using Xunit.Abstractions;

namespace Cartridges.Cluster.Tests.Lifecycle;

/// <summary>Create → start → Generating → Training → Serving → ask, on a 2-silo cluster, against the runtime alone.</summary>
public sealed class LifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task CreateStartServeAsk_AnswerEqualsRuntimeAlone()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 2);
        var grain = harness.Client.GetGrain<ICartridgeGrain>(CartridgeKey.Of("acme", "lighthouse"));
        var created = await grain.CreateAsync(ClusterHarness.TinySpec(ClusterHarness.Corpus("lighthouse-chronicle.txt")));
        Assert.Equal(CartridgeState.Untrained, created.State);

        var started = await grain.StartAsync();
        Assert.True(started.State is CartridgeState.Generating or CartridgeState.Training, $"after start: {started.State}");
        var seen = new List<CartridgeState> { created.State };
        CartridgeStatus? last = null;
        seen.AddRange(await ClusterHarness.WaitForServingAsync(grain, TimeSpan.FromMinutes(4), s => last = s));
        var states = seen.Distinct().ToList();
        output.WriteLine("states: " + string.Join(" → ", states));
        Assert.Equal([CartridgeState.Untrained, CartridgeState.Generating, CartridgeState.Training, CartridgeState.Serving], states);
        Assert.Equal(6, last!.Step);
        Assert.Equal(1.0, last.Progress);
        Assert.Equal(4, last.ShardsDone);

        // Generating fanned out: both accelerator silos' engines produced tokens before anyone asked a question.
        foreach (var siloHandle in harness.Cluster.Silos)
        {
            var stats = await harness.Client.GetGrain<IModelGrain>(SiloKeyedPlacement.Key(siloHandle.SiloAddress, "tiny")).GetStatsAsync();
            output.WriteLine($"{stats.Silo}: {stats.TokensGenerated} tokens generated during synthesis");
            Assert.True(stats.TokensGenerated > 0, $"silo {stats.Silo} synthesized nothing");
        }

        const string question = "Who keeps the lighthouse log?";
        var answer = await grain.AskAsync(question, new AskOptions { MaxTokens = 12 });
        output.WriteLine($"answer: '{answer.Text}' ({answer.CompletionTokens} tokens, prompt {answer.PromptTokens}, silo {answer.Silo})");
        Assert.True(answer.CompletionTokens > 0);
        Assert.Equal(16, answer.CartridgeTokens);

        var status = await grain.GetStatusAsync();
        Assert.True(status.ResidentBytes > 0, "the serving cartridge's tensors are resident");
        var blobs = new FileBlobStore(Path.Combine(harness.DataDirectory, "blobs"));
        var expected = await RuntimeReference.AnswerAsync(ClusterHarness.ModelDirectory, blobs, [status.CartridgeBlob!], question, 12);
        Assert.Equal(expected, answer.TokenIds);

        // Same question, same cartridge: the same answer again (greedy), and the stream carries the same tokens.
        var streamed = new List<int>();
        CartridgeAnswer? final = null;
        await foreach (var chunk in grain.AskStreamAsync(question, new AskOptions { MaxTokens = 12 }))
        {
            if (chunk.Final is { } f) final = f;
            else streamed.Add(chunk.TokenId);
        }
        Assert.Equal(expected, streamed);
        Assert.Equal(answer.Text, final!.Text);
    }
}
