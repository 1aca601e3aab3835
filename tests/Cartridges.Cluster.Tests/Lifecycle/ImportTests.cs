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

        // The silo's cartridge counters (the dashboard's source) see it: one serving cartridge, resident bytes.
        var seen = new Dictionary<string, double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Microsoft.Orleans" && instrument.Name.StartsWith("cartridges-", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        void Record(System.Diagnostics.Metrics.Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var name = instrument.Name;
            foreach (var tag in tags) name += $"[{tag.Key}={tag.Value}]";
            seen[name] = seen.GetValueOrDefault(name) + value;
        }
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.True(seen.GetValueOrDefault("cartridges-by-state[state=serving]") >= 1, string.Join(", ", seen.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.True(seen.GetValueOrDefault("cartridges-resident-bytes") > 0);
        Assert.True(seen.ContainsKey("cartridges-tokens-per-second") && seen.ContainsKey("cartridges-batch-size"));
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
