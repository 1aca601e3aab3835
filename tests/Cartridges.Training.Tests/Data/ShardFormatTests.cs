// The self-study dataset on disk: shard round trip, corruption caught with the file named, and dataset
// loading refusing incomplete, mismatched or damaged directories. No model needed.
using Cartridges.Model.Config;
using Cartridges.Training.Data;
using Cartridges.Training.Synthesis;
using Cartridges.Training.Tests.Support;

namespace Cartridges.Training.Tests.Data;

/// <summary>Shard format and dataset directory checks.</summary>
public sealed class ShardFormatTests
{
    const int K = 5;

    static TrainingExample[] Examples(int seed, int count)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var n = rng.Next(2, 40);
            var prompt = rng.Next(1, n);
            var mask = Enumerable.Range(0, n).Select(i => i >= prompt).ToArray();
            var m = n - prompt;
            return new TrainingExample(
                Enumerable.Range(0, n).Select(_ => rng.Next(0, 50_000)).ToArray(),
                mask,
                Enumerable.Range(0, m).Select(_ => Enumerable.Range(0, K).Select(_ => rng.Next(0, 50_000)).ToArray()).ToArray(),
                Enumerable.Range(0, m).Select(_ => Enumerable.Range(0, K).Select(_ => -20f * rng.NextSingle()).ToArray()).ToArray());
        }).ToArray();
    }

    static void AssertSame(IReadOnlyList<TrainingExample> expected, IReadOnlyList<TrainingExample> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Tokens, actual[i].Tokens);
            Assert.Equal(expected[i].LossMask, actual[i].LossMask);
            Assert.Equal(expected[i].TopKIds, actual[i].TopKIds);
            Assert.Equal(expected[i].TopKLogProbs, actual[i].TopKLogProbs);
        }
    }

    [Fact]
    public void Shard_RoundTrips_BitExactly()
    {
        var examples = Examples(1, 17);
        var bytes = ShardWriter.Encode(K, examples);
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual("CTSHARD1"u8));
        var shard = ShardReader.Decode(bytes, "memory");
        Assert.Equal(K, shard.K);
        AssertSame(examples, shard.Examples);
        Assert.Equal(bytes, ShardWriter.Encode(K, shard.Examples));
        Assert.Empty(ShardReader.Decode(ShardWriter.Encode(K, []), "empty").Examples);
    }

    [Fact]
    public void CorruptShard_FailsWithAnErrorNamingTheFile()
    {
        var dir = TinyModels.TempDir();
        try
        {
            var path = Path.Combine(dir, "shard-00000.bin");
            var good = ShardWriter.Encode(K, Examples(2, 4));

            var flipped = (byte[])good.Clone();
            flipped[good.Length / 2] ^= 0x10;
            File.WriteAllBytes(path, flipped);
            var e = Assert.Throws<InvalidDataException>(() => ShardReader.ReadFile(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("corrupt shard", e.Message);

            File.WriteAllBytes(path, good[..^7]);
            e = Assert.Throws<InvalidDataException>(() => ShardReader.ReadFile(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("truncated", e.Message);

            File.WriteAllBytes(path, good[..30]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => ShardReader.ReadFile(path)).Message);

            File.WriteAllText(path, "this is not a shard at all, just some text that is long enough to have a header");
            Assert.Contains("not a self-study shard", Assert.Throws<InvalidDataException>(() => ShardReader.ReadFile(path)).Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Writer_RefusesInconsistentExamples()
    {
        var x = Examples(3, 1)[0];
        Assert.Contains("5 entries", Assert.Throws<ArgumentException>(() => ShardWriter.Encode(K, [x with { TopKIds = [.. x.TopKIds.Select(r => r[..2])], TopKLogProbs = [.. x.TopKLogProbs.Select(r => r[..2])] }])).Message);
        Assert.Contains("loss tokens", Assert.Throws<ArgumentException>(() => ShardWriter.Encode(K, [x with { TopKIds = [] }])).Message);
    }

    static string WriteDataset(string dir, bool complete = true)
    {
        var train = ShardWriter.Encode(K, Examples(4, 3));
        var eval = ShardWriter.Encode(K, Examples(5, 2));
        File.WriteAllBytes(Path.Combine(dir, "shard-00000.bin"), train);
        File.WriteAllBytes(Path.Combine(dir, "shard-00001.bin"), eval);
        static string Sha(byte[] b) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(b));
        new DatasetManifest
        {
            ModelHash = "0123456789abcdef",
            VocabSize = 50_304,
            TemplateFamily = "llama",
            CorpusSha256 = CorpusText.Sha256("corpus"),
            TopK = K,
            Conversations = 5,
            ConversationsPerShard = 3,
            Synthesis = new SelfStudyOptions { TopK = K },
            Complete = complete,
            Shards = [new ShardEntry("shard-00000.bin", "train", 3, Sha(train)), new ShardEntry("shard-00001.bin", "eval", 2, Sha(eval))],
        }.Save(dir);
        return Path.Combine(dir, "shard-00001.bin");
    }

    [Fact]
    public void Dataset_LoadsSplits_AndRefusesDamagedOrIncompleteDirectories()
    {
        var dir = TinyModels.TempDir();
        try
        {
            var evalShard = WriteDataset(dir);
            var data = SynthDataset.Open(dir);
            Assert.Equal(3, data.Train.Count);
            Assert.Equal(2, data.Eval.Count);
            AssertSame(Examples(5, 2), data.Eval);
            Assert.Equal(new SelfStudyOptions { TopK = K }, data.Manifest.Synthesis);
            Assert.Contains("\"model_hash\"", File.ReadAllText(Path.Combine(dir, DatasetManifest.FileName)));

            var model = ModelConfig.Load(TinyModels.Dir(ModelFamily.Llama));
            Assert.Contains("synthesized by model 0123456789abcdef", Assert.Throws<InvalidDataException>(() => SynthDataset.Open(dir, model)).Message);

            File.WriteAllBytes(evalShard, ShardWriter.Encode(K, Examples(6, 2)));
            Assert.Contains("not the one the manifest lists", Assert.Throws<InvalidDataException>(() => SynthDataset.Open(dir)).Message);

            var bytes = File.ReadAllBytes(evalShard);
            bytes[40] ^= 1;
            File.WriteAllBytes(evalShard, bytes);
            var e = Assert.Throws<InvalidDataException>(() => SynthDataset.Open(dir));
            Assert.Contains(evalShard, e.Message);
            Assert.Contains("SHA-256 mismatch", e.Message);

            File.Delete(evalShard);
            Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => SynthDataset.Open(dir)).Message);

            WriteDataset(dir, complete: false);
            Assert.Contains("incomplete", Assert.Throws<InvalidDataException>(() => SynthDataset.Open(dir)).Message);
            Assert.Throws<FileNotFoundException>(() => SynthDataset.Open(TinyModels.TempDir()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
