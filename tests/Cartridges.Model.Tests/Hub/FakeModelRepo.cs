// Small stand-ins for a model's files: JSON in git, weights as "LFS" files, optionally sharded.
using System.Text;

namespace Cartridges.Model.Tests.Hub;

/// <summary>Builds the file set of a tiny fake model repo.</summary>
static class FakeModelRepo
{
    public const string Id = "acme/tiny-model";
    public const string Shard1 = "model-00001-of-00002.safetensors";
    public const string Shard2 = "model-00002-of-00002.safetensors";

    /// <summary>config, tokenizer files and either one weights file or an index with two shards.</summary>
    public static Dictionary<string, FakeHubFile> Files(bool sharded = true, int shardBytes = 300_000)
    {
        var files = new Dictionary<string, FakeHubFile>
        {
            ["config.json"] = Json("""{"model_type":"llama","hidden_size":8}"""),
            ["tokenizer.json"] = Json("""{"version":"1.0","model":{"type":"BPE"}}"""),
            ["tokenizer_config.json"] = Json("""{"eos_token":"</s>"}"""),
        };
        if (!sharded)
        {
            files["model.safetensors"] = new FakeHubFile(RandomBytes(shardBytes, seed: 1), Lfs: true);
            files["generation_config.json"] = Json("""{"temperature":0.7}""");
            return files;
        }
        files["model.safetensors.index.json"] = Json($$$"""
            {"metadata":{"total_size":{{{2 * shardBytes}}}},
             "weight_map":{"embed.weight":"{{{Shard1}}}","layers.0.weight":"{{{Shard1}}}","lm_head.weight":"{{{Shard2}}}"}}
            """);
        files[Shard1] = new FakeHubFile(RandomBytes(shardBytes, seed: 1), Lfs: true);
        files[Shard2] = new FakeHubFile(RandomBytes(shardBytes, seed: 2), Lfs: true);
        return files;
    }

    public static FakeHubFile Json(string text) => new(Encoding.UTF8.GetBytes(text), Lfs: false);

    static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
