using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Storage.Blobs;
using Cartridges.Training.Cartridges;
using TorchSharp;

namespace Cartridges.Cluster.Tests.Lifecycle;

/// <summary>A cartridge trained elsewhere (a file) is imported straight into Serving; files for another model are refused.</summary>
public sealed class ImportTests(SingleSiloCluster cluster) : IClassFixture<SingleSiloCluster>
{
    static byte[] CartridgeFileFor(string modelDir, string text, int p)
    {
        using var model = TransformerModel.Load(modelDir, torch.CPU, torch.ScalarType.Float32);
        var tokenizer = HfTokenizer.Load(modelDir);
        using var cartridge = CartridgeInitializer.FromText(model, tokenizer, text, p);
        var file = Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.safetensors");
        CartridgeFile.Save(file, cartridge, CartridgeMetadata.For("test", model.Config, cartridge));
        var bytes = File.ReadAllBytes(file);
        File.Delete(file);
        return bytes;
    }

    [Fact]
    public async Task ImportedCartridge_ServesAtOnce_AndAnswersLikeTheRuntime()
    {
        var corpus = ClusterHarness.Corpus("orchard-ledger.txt")[..2000];
        var file = CartridgeFileFor(ClusterHarness.ModelDirectory, corpus, 24);
        var grain = cluster.Harness.Client.GetGrain<ICartridgeGrain>("acme/imported");
        var status = await grain.ImportAsync(ClusterHarness.TinySpec(corpus), file);
        Assert.Equal(CartridgeState.Serving, status.State);
        Assert.Equal(24, status.SizeTokens);
        Assert.True(status.ResidentBytes > 0);

        var answer = await grain.AskAsync("What grows in the orchard?", new AskOptions { MaxTokens = 8 });
        var expected = await RuntimeReference.AnswerAsync(ClusterHarness.ModelDirectory, new FileBlobStore(Path.Combine(cluster.Harness.DataDirectory, "blobs")),
            [status.CartridgeBlob!], "What grows in the orchard?", 8);
        Assert.Equal(expected, answer.TokenIds);
        var e = await Assert.ThrowsAsync<CartridgeException>(() => grain.ImportAsync(ClusterHarness.TinySpec(corpus), file));
        Assert.Equal(CartridgeException.Conflict, e.Code);
    }

    [Fact]
    public async Task CartridgeForAnotherModel_OrGarbage_IsRefused_NothingStored()
    {
        var other = Path.Combine(Path.GetTempPath(), $"cluster-qwen-{Guid.NewGuid():N}");
        RandomModelWriter.Create(other, ModelFamily.Qwen3, "tiny", 5, torch.ScalarType.Float32);
        var wrong = CartridgeFileFor(other, "some text for a qwen cartridge", 8);
        var grain = cluster.Harness.Client.GetGrain<ICartridgeGrain>("acme/wrong-model");
        var e = await Assert.ThrowsAsync<CartridgeException>(() => grain.ImportAsync(ClusterHarness.TinySpec("corpus"), wrong));
        Assert.Equal(CartridgeException.InvalidRequest, e.Code);
        e = await Assert.ThrowsAsync<CartridgeException>(() => grain.ImportAsync(ClusterHarness.TinySpec("corpus"), [1, 2, 3, 4]));
        Assert.Equal(CartridgeException.InvalidRequest, e.Code);
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
        Directory.Delete(other, recursive: true);
    }
}
