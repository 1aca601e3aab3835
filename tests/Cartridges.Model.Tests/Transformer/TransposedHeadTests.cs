using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Transformer;

/// <summary>The serving copy of the output head gives the logits the head itself gives.</summary>
public sealed class TransposedHeadTests
{
    [Theory]
    [InlineData(ModelFamily.Llama)] // tied head
    [InlineData(ModelFamily.Qwen3)] // untied head
    public void OneRowOfLogits_FromTheTransposedCopy_EqualsTheHead(ModelFamily family)
    {
        using var model = TestModels.Load(family);
        var hidden = randn(1, 1, model.Config.HiddenSize, generator: new Generator(3));
        var rows = randn(3, model.Config.HiddenSize, generator: new Generator(4));
        var before = model.Logits(hidden);
        var beforeRows = model.Logits(rows);

        Assert.False(model.KeepTransposedHead(maxExtraBytes: 16), "a head above the byte limit gets no copy");
        Assert.True(model.KeepTransposedHead(maxExtraBytes: long.MaxValue));

        var after = model.Logits(hidden);
        Assert.Equal(before.shape, after.shape);
        // Same products summed in another order: f32 rounding of 64-term sums of values ~1.
        Assert.True((after - before).abs().max().item<float>() < 1e-5);
        Assert.Equal(0, (model.Logits(rows) - beforeRows).abs().max().item<float>()); // several rows keep the head's own path
    }
}
