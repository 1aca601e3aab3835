using System.Text.Json;
using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Weights;

/// <summary>safetensors reading/writing, sharded checkpoints and tied embeddings.</summary>
public sealed class SafeTensorsTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void RoundTrip_PreservesValuesShapesAndMetadata(ScalarType storeAs)
    {
        var dir = TestModels.TempDir();
        try
        {
            using var scope = NewDisposeScope();
            var a = randn(3, 5);
            var b = arange(7, dtype: ScalarType.Float32);
            var ids = tensor(new long[] { 1, -2, 3 });
            var path = Path.Combine(dir, "x.safetensors");
            SafeTensorsWriter.Write(path, [new("a", a), new("b", b), new("ids", ids)], new Dictionary<string, string> { ["k"] = "v" }, storeAs);
            using var file = SafeTensorsFile.Open(path);
            Assert.Equal("v", file.Metadata["k"]);
            Assert.Equal([3L, 5L], file.Tensors["a"].Shape);
            Assert.Equal(SafeTensorsDType.NameOf(storeAs), file.Tensors["a"].DType);
            Assert.Equal("I64", file.Tensors["ids"].DType); // integers are never converted
            var readA = file.Read("a", ScalarType.Float32);
            var expected = a.to_type(storeAs).to_type(ScalarType.Float32);
            Assert.True(readA.eq(expected).all().item<bool>());
            Assert.True(file.Read("b", ScalarType.Float32).eq(b).all().item<bool>());
            Assert.True(file.Read("ids").eq(ids).all().item<bool>());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ASymlinkedFile_AsInAHubCache_ReadsThroughTheLink()
    {
        // A Hugging Face cache's snapshot holds symlinks to its blobs; the link's own size must not be taken for the file's.
        var dir = TestModels.TempDir();
        try
        {
            using var scope = NewDisposeScope();
            var blob = Path.Combine(dir, "blob");
            var a = randn(64, 32);
            SafeTensorsWriter.Write(blob, [new("a", a)], new Dictionary<string, string>(), ScalarType.Float32);
            var link = Path.Combine(dir, "model.safetensors");
            File.CreateSymbolicLink(link, "blob");
            Assert.True(new FileInfo(link).Length < 8); // what used to be read as the file's length

            using var file = SafeTensorsFile.Open(link);
            Assert.True(file.Read("a", ScalarType.Float32).eq(a).all().item<bool>());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ShardedIndex_LoadsTheSameModel_AsTheSingleFile()
    {
        var src = TestModels.Dir(ModelFamily.Qwen3);
        var dir = TestModels.TempDir();
        try
        {
            foreach (var f in new[] { "config.json", "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(src, f), Path.Combine(dir, f));
            using (var single = SafeTensorsFile.Open(Path.Combine(src, "model.safetensors")))
            {
                var names = single.Tensors.Keys.Order().ToArray();
                var map = new Dictionary<string, string>();
                for (var shard = 0; shard < 3; shard++)
                {
                    var mine = names.Where((_, i) => i % 3 == shard).ToArray();
                    var file = $"model-{shard + 1:D5}-of-00003.safetensors";
                    using var scope = NewDisposeScope();
                    SafeTensorsWriter.Write(Path.Combine(dir, file), mine.Select(n => new KeyValuePair<string, Tensor>(n, single.Read(n))), storeAs: ScalarType.BFloat16);
                    foreach (var n in mine) map[n] = file;
                }
                File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"),
                    JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));
            }
            using var sharded = TransformerModel.Load(dir, CPU, ScalarType.Float32);
            using var reference = TestModels.Load(ModelFamily.Qwen3);
            using var scope2 = NewDisposeScope();
            foreach (var (name, t) in reference.NamedTensors())
            {
                var other = sharded.NamedTensors().First(kv => kv.Key == name).Value;
                Assert.True(other.eq(t.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32)).all().item<bool>(), name);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TiedEmbeddings_HaveNoLmHead_AndUseTheEmbeddingAsHead()
    {
        var llama = TestModels.Dir(ModelFamily.Llama);
        using (var f = SafeTensorsFile.Open(Path.Combine(llama, "model.safetensors")))
        {
            Assert.False(f.Tensors.ContainsKey(WeightNames.LmHead));
        }
        using var model = TestModels.Load(ModelFamily.Llama);
        Assert.True(model.Config.TieWordEmbeddings);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var hidden = randn(1, 2, model.Config.HiddenSize);
        var embed = model.NamedTensors().First(kv => kv.Key == WeightNames.Embed).Value;
        var expected = matmul(hidden, embed.t());
        Assert.True((model.Logits(hidden) - expected).abs().max().item<float>() < 1e-5);

        var qwen = TestModels.Dir(ModelFamily.Qwen3);
        using var q = SafeTensorsFile.Open(Path.Combine(qwen, "model.safetensors"));
        Assert.True(q.Tensors.ContainsKey(WeightNames.LmHead));
    }
}
