using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Storage.Blobs;
using Cartridges.Training.Cartridges;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace Cartridges.Cluster.Tests.Serving;

/// <summary>
/// The residency budget: past Cartridges:ResidentBudgetBytes the least recently used cartridges that no request holds are
/// dropped, and come back from the blob store on their next use; a leased cartridge is never dropped.
/// </summary>
public sealed class ResidencyBudgetTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), $"residency-{Guid.NewGuid():N}");
    readonly CartridgesOptions _options;
    readonly SiloEngineHost _host;
    readonly FileBlobStore _blobs;

    public ResidencyBudgetTests()
    {
        _options = new CartridgesOptions { Models = { ["tiny"] = ClusterHarness.ModelDirectory }, WorkDirectory = Path.Combine(_root, "work") };
        _host = new SiloEngineHost(Options.Create(_options), NullLogger<SiloEngineHost>.Instance);
        _blobs = new FileBlobStore(Path.Combine(_root, "blobs"));
    }

    /// <summary>Cartridges of the same size from different parts of the corpus (one blob each).</summary>
    async Task<string[]> StoreCartridgesAsync(int count)
    {
        var dir = ClusterHarness.ModelDirectory;
        using var model = TransformerModel.Load(dir, torch.CPU, torch.ScalarType.Float32);
        var ids = HfTokenizer.Load(dir).Encode(ClusterHarness.Corpus("orchard-ledger.txt")[..4000]);
        var blobs = new string[count];
        for (var i = 0; i < count; i++)
        {
            using var cartridge = CartridgeInitializer.FromTokens(model, [.. ids.Skip(i * 50).Take(16)]);
            var file = Path.Combine(_root, $"c{i}.safetensors");
            Directory.CreateDirectory(_root);
            CartridgeFile.Save(file, cartridge, CartridgeMetadata.For("test", model.Config, cartridge));
            blobs[i] = (await _blobs.PutFileAsync(file)).Sha256;
        }
        Assert.Equal(count, blobs.Distinct().Count());
        return blobs;
    }

    [Fact]
    public async Task OverTheBudget_LeastRecentlyUsedIdleCartridgesGo_LeasedOnesStay_AndEvictedOnesComeBack()
    {
        var blobs = await StoreCartridgesAsync(5);
        var model = await _host.GetAsync("tiny");
        var one = await _host.EnsureCartridgeAsync(model, blobs[0], _blobs, "h0");
        Assert.True(one > 0);
        _options.ResidentBudgetBytes = 2 * one + one / 2; // room for two

        // A request on cartridge 0 holds its lease while 1..4 load: 0 stays, the others push each other out.
        using (await _host.AcquireCartridgeAsync(model, blobs[0], _blobs, "h0"))
        {
            for (var i = 1; i < 5; i++) await _host.EnsureCartridgeAsync(model, blobs[i], _blobs, $"h{i}");
            Assert.True(_host.ResidentBytes("tiny", blobs[0]) > 0);
            Assert.True(_host.ResidentBytes("tiny", blobs[4]) > 0);
            Assert.Equal(3, _host.Evictions);
            Assert.True(_host.CartridgeBytes <= _options.ResidentBudgetBytes);
        }

        // Least recently used goes first: 0 was used after 4 (its lease just ended), so loading 2 again drops 4.
        await _host.EnsureCartridgeAsync(model, blobs[2], _blobs, "h2");
        Assert.Equal(1, _host.Reloads);
        Assert.Equal(0, _host.ResidentBytes("tiny", blobs[4]));
        Assert.True(_host.ResidentBytes("tiny", blobs[0]) > 0);

        // An evicted cartridge answers again: the lease reloads it from the blob store before the request runs.
        using (await _host.AcquireCartridgeAsync(model, blobs[4], _blobs, "h4"))
        {
            var result = await model.Engine.GenerateAsync(new GenerationRequest
            {
                Prompt = [1, 2, 3],
                PrefixIds = [SiloEngineHost.PrefixId(blobs[4])],
                Sampling = SamplingParams.Greedy(3),
            });
            Assert.Equal(3, result.Tokens.Count);
        }
        Assert.Equal(2, _host.Reloads);
        Assert.Equal(2, (await model.Engine.PrefixIdsAsync()).Length);
    }

    [Fact]
    public async Task WithoutABudget_NothingIsEvicted()
    {
        var blobs = await StoreCartridgesAsync(3);
        var model = await _host.GetAsync("tiny");
        foreach (var (blob, i) in blobs.Select((b, i) => (b, i))) await _host.EnsureCartridgeAsync(model, blob, _blobs, $"h{i}");
        Assert.Equal(0, _host.Evictions);
        Assert.Equal(3, (await model.Engine.PrefixIdsAsync()).Length);
    }

    public void Dispose()
    {
        _host.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
