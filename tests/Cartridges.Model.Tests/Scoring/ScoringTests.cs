using Cartridges.Model.Config;
using Cartridges.Model.Scoring;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Scoring;

/// <summary>Top-k teacher log-probs and the prefix-differentiable forward used for training.</summary>
public sealed class ScoringTests
{
    [Theory]
    [InlineData(ModelFamily.Llama, 20)]
    [InlineData(ModelFamily.Qwen3, 5)]
    public void TopK_MatchesFullLogSoftmax(ModelFamily family, int k)
    {
        using var model = TestModels.Load(family);
        using var prefix = PrefixBuilder.FromTokens(model, TestModels.Tokens(10, 1));
        int[][] seqs = [TestModels.Tokens(7, 2), TestModels.Tokens(12, 3)];
        var results = SequenceScorer.TopK(model, seqs, k, [new PrefixSegment(prefix, 0)]);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (var b = 0; b < seqs.Length; b++)
        {
            Assert.Equal(seqs[b].Length, results[b].Ids.Length);
            var full = SequenceScorer.Logits(model, [seqs[b]], [new PrefixSegment(prefix, 0)])[0].log_softmax(-1);
            for (var t = 0; t < seqs[b].Length; t++)
            {
                Assert.Equal(k, results[b].Ids[t].Length);
                var row = full[t].data<float>().ToArray();
                var expectedIds = row.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(k).Select(x => x.i).ToArray();
                Assert.Equal(expectedIds, results[b].Ids[t]);
                for (var j = 0; j < k; j++) Assert.True(Math.Abs(row[expectedIds[j]] - results[b].LogProbs[t][j]) <= 1e-5, $"t={t} j={j}");
                // Untempered probabilities: the full distribution sums to one.
                Assert.Equal(1.0, row.Sum(v => Math.Exp(v)), 3);
            }
        }
    }

    [Fact]
    public void Forward_IsDifferentiableInThePrefix_AndLeavesTheModelFrozen()
    {
        using var model = TestModels.Load(ModelFamily.Qwen3);
        using var built = PrefixBuilder.FromTokens(model, TestModels.Tokens(8, 4));
        using var scope = NewDisposeScope();
        var keys = built.Keys.Select(k => k.clone().requires_grad_(true)).ToArray();
        var values = built.Values.Select(v => v.clone().requires_grad_(true)).ToArray();
        var trainable = new KvPrefix(keys, values, owns: false);
        var logits = SequenceScorer.Logits(model, [TestModels.Tokens(6, 5)], [new PrefixSegment(trainable, 0)]);
        logits.log_softmax(-1)[0, .., 0].sum().backward();
        foreach (var t in keys.Concat(values))
        {
            Assert.NotNull(t.grad);
            Assert.True(t.grad!.abs().sum().item<float>() > 0);
        }
        Assert.All(model.NamedTensors(), kv => Assert.False(kv.Value.requires_grad, kv.Key));
    }

    [Fact]
    public void BadK_IsRejected()
    {
        using var model = TestModels.Load(ModelFamily.Llama);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SequenceScorer.TopK(model, [[1, 2]], 0));
        Assert.Contains("k must be", e.Message);
        Assert.Throws<ArgumentException>(() => SequenceScorer.TopK(model, [[]], 3));
    }
}
