using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Lifecycle;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Engines;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using TorchSharp;

namespace Cartridges.Cluster.Tests.Serving;

/// <summary>
/// Cartridge tensors are shared by content hash across tenants, and counted per holder: deleting one tenant's cartridge
/// never breaks another's requests on the same tensors, and the tensors go when the last holder goes.
/// </summary>
public sealed class SharedTensorsTests(SingleSiloCluster cluster) : IClassFixture<SingleSiloCluster>
{
    const string Question = "What grows in the orchard?";

    static byte[] CartridgeFile(int tokens = 20)
    {
        var dir = ClusterHarness.ModelDirectory;
        using var model = TransformerModel.Load(dir, torch.CPU, torch.ScalarType.Float32);
        using var cartridge = CartridgeInitializer.FromText(model, HfTokenizer.Load(dir), ClusterHarness.Corpus("orchard-ledger.txt")[..2000], tokens);
        var file = Path.Combine(Path.GetTempPath(), $"shared-{Guid.NewGuid():N}.safetensors");
        Training.Cartridges.CartridgeFile.Save(file, cartridge, CartridgeMetadata.For("test", model.Config, cartridge));
        try
        {
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    SiloEngineHost Host => ((InProcessSiloHandle)cluster.Harness.Cluster.Primary!).SiloHost.Services.GetRequiredService<SiloEngineHost>();

    [Fact]
    public async Task DeletingOneTenantsCartridge_KeepsAnotherTenantsRequestsOnTheSameTensorsWorking()
    {
        var file = CartridgeFile();
        var spec = ClusterHarness.TinySpec(ClusterHarness.Corpus("orchard-ledger.txt")[..2000]);
        var a = cluster.Harness.Client.GetGrain<ICartridgeGrain>("shared-a/ledger");
        var b = cluster.Harness.Client.GetGrain<ICartridgeGrain>("shared-b/ledger");
        var blob = (await a.ImportAsync(spec, file)).CartridgeBlob!;
        Assert.Equal(blob, (await b.ImportAsync(spec, file)).CartridgeBlob);
        Assert.Equal(["shared-a/ledger", "shared-b/ledger"], Host.Holders("tiny", blob).Order());
        var expected = (await b.AskAsync(Question, new AskOptions { MaxTokens = 6 })).Text;

        // b's questions run while a is deleted: every one is answered, and answered the same.
        var asks = Enumerable.Range(0, 24).Select(_ => b.AskAsync(Question, new AskOptions { MaxTokens = 6 })).ToList();
        await a.DeleteAsync();
        var answers = await Task.WhenAll(asks);
        Assert.All(answers, x => Assert.Equal(expected, x.Text));
        Assert.Equal(["shared-b/ledger"], Host.Holders("tiny", blob));
        Assert.True((await b.GetStatusAsync()).ResidentBytes > 0);
        Assert.Equal(expected, (await b.AskAsync(Question, new AskOptions { MaxTokens = 6 })).Text);

        // The last holder gone, the tensors go too.
        await b.DeleteAsync();
        Assert.Empty(Host.Holders("tiny", blob));
        Assert.Equal(0, Host.ResidentBytes("tiny", blob));
    }

    [Fact]
    public async Task ACompositionHoldsTheOtherCartridge_AndAnIdleGrainGivesItsTensorsBack()
    {
        var file = CartridgeFile();
        var spec = ClusterHarness.TinySpec(ClusterHarness.Corpus("orchard-ledger.txt")[..2000]);
        var own = cluster.Harness.Client.GetGrain<ICartridgeGrain>("shared-c/own");
        var other = cluster.Harness.Client.GetGrain<ICartridgeGrain>("shared-c/other");
        await own.ImportAsync(spec, file);
        // The other cartridge is another file (another size), so its tensors are its own.
        var otherBlob = (await other.ImportAsync(spec, CartridgeFile(tokens: 24))).CartridgeBlob!;
        var composed = await own.AskAsync(Question, new AskOptions { MaxTokens = 4, ComposeWith = ["shared-c/other"] });
        Assert.Equal(44, composed.CartridgeTokens);
        Assert.Contains("shared-c/own", Host.Holders("tiny", otherBlob));

        // Idle activations are collected: their holds are released; the next question loads the tensors again.
        await cluster.Harness.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Empty(Host.Holders("tiny", otherBlob));
        Assert.Equal(0, Host.ResidentBytes("tiny", otherBlob));
        Assert.Equal(composed.Text, (await own.AskAsync(Question, new AskOptions { MaxTokens = 4, ComposeWith = ["shared-c/other"] })).Text);
        Assert.Equal(["shared-c/own"], Host.Holders("tiny", otherBlob)); // composed only; "other" itself was not asked
        await own.DeleteAsync();
        await other.DeleteAsync();
    }
}
