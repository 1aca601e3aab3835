using Cartridges.Model.Config;
using Cartridges.Model.Scoring;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Scoring;

/// <summary>Top-k teacher log-probs and the prefix-differentiable forward used for training.</summary>
public sealed class ScoringTests(ITestOutputHelper output)
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
        var (maxDelta, minLogProb) = (0.0, 0.0);
        for (var b = 0; b < seqs.Length; b++)
        {
            Assert.Equal(seqs[b].Length, results[b].Ids.Length);
            // Reference: this sequence alone (TopK ran both sequences as one padded batch, i.e. other kernels).
            var full = SequenceScorer.Logits(model, [seqs[b]], [new PrefixSegment(prefix, 0)])[0].log_softmax(-1);
            for (var t = 0; t < seqs[b].Length; t++)
            {
                var (ids, lps) = (results[b].Ids[t], results[b].LogProbs[t]);
                Assert.Equal(k, ids.Length);
                Assert.Equal(k, ids.Distinct().Count());
                Assert.True(lps.Zip(lps.Skip(1)).All(x => x.First >= x.Second), $"t={t}: log-probs not in descending order");
                var row = full[t].data<float>().ToArray();
                var kth = row.OrderDescending().ElementAt(k - 1);
                for (var j = 0; j < k; j++)
                {
                    // Log-probs near −ln(50k) ≈ −10.8 are x − logsumexp(row): fp32 keeps ~7 digits of that magnitude
                    // (ulp 1e-6 at 10.8), and the batched and single-row sums round differently, so the bound is
                    // relative: 1e-5·max(1, |x|), about 1e-4 here; a wrong row or a missing normalisation is off by ≫ 1e-3.
                    var tolerance = 1e-5 * Math.Max(1, Math.Abs(row[ids[j]]));
                    var delta = Math.Abs(row[ids[j]] - lps[j]);
                    (maxDelta, minLogProb) = (Math.Max(maxDelta, delta), Math.Min(minLogProb, lps[j]));
                    Assert.True(delta <= tolerance, $"t={t} j={j}: {lps[j]} vs {row[ids[j]]}");
                    // The returned ids are a top-k set: none is below the true k-th largest by more than the rounding
                    // (near-flat rows have near-ties, which batched and single-row kernels may order differently).
                    Assert.True(row[ids[j]] >= kth - tolerance, $"t={t} j={j}: id {ids[j]} ({row[ids[j]]}) is not in the top {k} (k-th {kth})");
                }
                // Untempered probabilities: the full distribution sums to one.
                Assert.Equal(1.0, row.Sum(v => Math.Exp(v)), 3);
            }
        }
        output.WriteLine($"{family}: max |Δ log-prob| batched top-k vs single-sequence log-softmax {maxDelta:E2} (log-probs down to {minLogProb:F2})");
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
