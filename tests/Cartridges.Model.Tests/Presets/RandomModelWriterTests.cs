using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Presets;

/// <summary>init-random's context option: long-document benchmarks need presets whose context exceeds 8192.</summary>
public sealed class RandomModelWriterTests
{
    [Fact]
    public void Context_SetsMaxPositions_AndTheModelRunsPastTheDefault()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"init-random-{Guid.NewGuid():N}");
        try
        {
            var config = RandomModelWriter.Create(dir, ModelFamily.Llama, "tiny", 3, ScalarType.Float32, context: 16384);
            Assert.Equal(16384, config.MaxPositionEmbeddings);
            Assert.Equal(16384, ModelConfig.Load(dir).MaxPositionEmbeddings);
            Assert.Equal(8192, ModelPresets.Create(ModelFamily.Llama, "tiny").MaxPositionEmbeddings);
            using var model = TransformerModel.Load(dir, CPU);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var prefix = KvPrefixOfLength(model, 9000);
            // Positions 9000-9003: beyond the default context, accepted by this one.
            var hidden = model.Forward(new ForwardBatch
            {
                Tokens = tensor(new long[] { 1, 2, 3, 4 }).view(1, -1),
                Prefixes = [[new PrefixSegment(prefix, 0)]],
            });
            Assert.False(hidden.isnan().any().item<bool>());
            Assert.Throws<ArgumentOutOfRangeException>(() => RandomModelWriter.Create(dir + "-bad", ModelFamily.Llama, "tiny", 3, ScalarType.Float32, context: 8));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void OneBPreset_HasLlama32OneBsShape()
    {
        var c = ModelPresets.Create(ModelFamily.Llama, "1b");
        c.Validate();
        var parameters = WeightNames.Expected(c).Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal((2048, 16, 32, 8, 8192), (c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.IntermediateSize));
        Assert.InRange(parameters, 1.0e9, 1.2e9);
    }

    /// <summary>A zero prefix of the given length (its content does not matter here, only the positions after it).</summary>
    static KvPrefix KvPrefixOfLength(TransformerModel model, int length)
    {
        var c = model.Config;
        var keys = Enumerable.Range(0, c.NumHiddenLayers).Select(_ => zeros(c.NumKeyValueHeads, length, c.HeadDim).DetachFromDisposeScope()).ToArray();
        var values = Enumerable.Range(0, c.NumHiddenLayers).Select(_ => zeros(c.NumKeyValueHeads, length, c.HeadDim).DetachFromDisposeScope()).ToArray();
        return new KvPrefix(keys, values);
    }
}
