using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Transformer;

/// <summary>Cached decode, prefixes and composition against the full forward pass.</summary>
public sealed class CacheEquivalenceTests(ITestOutputHelper output)
{
    static Tensor FullLogits(TransformerModel model, int[] tokens, IReadOnlyList<PrefixSegment>? prefix = null, bool sharedPositions = false) =>
        model.Logits(model.Forward(new ForwardBatch
        {
            Tokens = tensor(tokens.Select(t => (long)t).ToArray()).view(1, -1),
            Prefixes = prefix is null ? null : [prefix],
            SharedPrefixPositions = sharedPositions,
        }))[0];

    /// <summary>Prefill `split` tokens into a cache, then decode the rest one at a time; logits of every position.</summary>
    static Tensor CachedLogits(TransformerModel model, int[] tokens, int split, IReadOnlyList<PrefixSegment>? prefix = null)
    {
        var cache = model.NewCache(2, 16);
        cache.Allocate();
        var slot = cache.Allocate(); // slot 1: exercises a non-zero slot
        var rows = new List<Tensor>();
        var first = model.Forward(new ForwardBatch
        {
            Tokens = tensor(tokens[..split].Select(t => (long)t).ToArray()).view(1, -1),
            Cache = cache,
            Slots = [slot],
            Prefixes = prefix is null ? null : [prefix],
        });
        rows.Add(model.Logits(first)[0]);
        for (var i = split; i < tokens.Length; i++)
        {
            var h = model.Forward(new ForwardBatch
            {
                Tokens = tensor(new long[] { tokens[i] }).view(1, 1),
                Cache = cache,
                Slots = [slot],
                Prefixes = prefix is null ? null : [prefix],
            });
            rows.Add(model.Logits(h)[0]);
        }
        return cat(rows, 0);
    }

    /// <summary>
    /// Bound on |Δlogit| between two fp32 computations of the same logits with different kernels: rounding grows with
    /// the magnitude of the sums, so 1e-4 for logits up to 1 in size and 1e-4 of the largest logit beyond that
    /// (measured differences are around 1e-6; a real bug, e.g. a wrong position or mask, moves logits by far more).
    /// </summary>
    static double Tolerance(double maxAbsLogit) => 1e-4 * Math.Max(1, maxAbsLogit);

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public void CachedDecode_EqualsFullForward(ModelFamily family)
    {
        using var model = TestModels.Load(family);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = TestModels.Tokens(40, 1);
        var full = FullLogits(model, tokens);
        var cached = CachedLogits(model, tokens, 7);
        var diff = (full - cached).abs().max().item<float>();
        var scale = full.abs().max().item<float>();
        var compared = LogitChecks.AssertArgmaxAgrees(full, cached, diff);
        output.WriteLine($"{family}: max |Δ| cached vs full = {diff:E2}; max |logit| {scale:F3}; smallest top-1 margin " +
                         $"{LogitChecks.TopMargins(full).Min():E2}; arg-max compared at {compared}/{tokens.Length} positions");
        Assert.True(diff <= Tolerance(scale), $"max |Δ| = {diff}");
    }

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public void CachedDecode_WithPrefix_EqualsFullForwardWithPrefix(ModelFamily family)
    {
        using var model = TestModels.Load(family);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var prefix = PrefixBuilder.FromTokens(model, TestModels.Tokens(24, 2));
        PrefixSegment[] segments = [new(prefix, 0)];
        var tokens = TestModels.Tokens(30, 3);
        var full = FullLogits(model, tokens, segments);
        var cached = CachedLogits(model, tokens, 5, segments);
        var diff = (full - cached).abs().max().item<float>();
        var scale = full.abs().max().item<float>();
        output.WriteLine($"{family}: max |Δ| cached vs full with prefix = {diff:E2}; max |logit| {scale:F3}");
        Assert.True(diff <= Tolerance(scale), $"max |Δ| = {diff}");
    }

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public void PrefixOfFirstKTokens_ReproducesInContextLogits(ModelFamily family)
    {
        using var model = TestModels.Load(family);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = TestModels.Tokens(48, 4);
        const int K = 20;
        var inContext = FullLogits(model, tokens).narrow(0, K, tokens.Length - K);
        using var prefix = PrefixBuilder.FromTokens(model, tokens[..K]);
        Assert.Equal(K, prefix.Length);
        var withPrefix = FullLogits(model, tokens[K..], [new PrefixSegment(prefix, 0)]);
        var diff = (inContext - withPrefix).abs().max().item<float>();
        var scale = inContext.abs().max().item<float>();
        var compared = LogitChecks.AssertArgmaxAgrees(inContext, withPrefix, diff);
        output.WriteLine($"{family}: max |Δ| prefix(first {K}) vs in context = {diff:E2}; max |logit| {scale:F3}; smallest top-1 margin " +
                         $"{LogitChecks.TopMargins(inContext).Min():E2}; arg-max compared at {compared}/{tokens.Length - K} positions");
        Assert.True(diff <= Tolerance(scale), $"max |Δ| = {diff}");
    }

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public void PrefixBuiltInChunks_EqualsOneWholePass(ModelFamily family)
    {
        using var model = TestModels.Load(family);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var first = PrefixBuilder.FromTokens(model, TestModels.Tokens(12, 6));
        PrefixSegment[] after = [new(first, 0)];
        var tokens = TestModels.Tokens(61, 5);
        using var whole = PrefixBuilder.FromTokens(model, tokens, after, chunkTokens: 1000);
        using var chunked = PrefixBuilder.FromTokens(model, tokens, after, chunkTokens: 7);
        var diff = 0.0;
        for (var l = 0; l < model.Config.NumHiddenLayers; l++)
        {
            diff = Math.Max(diff, (whole.Keys[l] - chunked.Keys[l]).abs().max().item<float>());
            diff = Math.Max(diff, (whole.Values[l] - chunked.Values[l]).abs().max().item<float>());
        }
        // And what a question sees after it: the same logits as with the whole pass's prefix.
        var question = TestModels.Tokens(9, 7);
        var a = FullLogits(model, question, [.. after, new PrefixSegment(whole, 0)]);
        var b = FullLogits(model, question, [.. after, new PrefixSegment(chunked, 0)]);
        var logitDiff = (a - b).abs().max().item<float>();
        output.WriteLine($"{family}: chunks of 7 vs one pass: max |Δ| keys/values {diff:E2}, logits {logitDiff:E2}");
        // Keys and values are O(1) (normed, rotated projections); chunking only changes summation order (measured ~1e-6),
        // so 1e-4 leaves a hundredfold margin while a wrong position or mask in a later chunk moves them by far more.
        Assert.True(diff <= 1e-4, $"keys/values differ by {diff}");
        Assert.True(logitDiff <= Tolerance(a.abs().max().item<float>()), $"logits differ by {logitDiff}");
    }

    /// <summary>One prefix holding A's keys and values, then B's without its sink; <paramref name="mapKeys"/> applied to the joined keys.</summary>
    static KvPrefix Joined(KvPrefix a, KvPrefix b, Func<Tensor, Tensor> mapKeys) => new(
        a.Keys.Zip(b.Keys, (x, y) => mapKeys(cat([x, y.narrow(1, 1, y.shape[1] - 1)], 1))).ToArray(),
        a.Values.Zip(b.Values, (x, y) => cat([x, y.narrow(1, 1, y.shape[1] - 1)], 1)).ToArray());

    [Fact]
    public void Composition_EqualsExplicitConcatenation_WithLaterSinksDropped()
    {
        using var model = TestModels.Load(ModelFamily.Llama);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var a = PrefixBuilder.FromTokens(model, TestModels.Tokens(12, 5));
        using var b = PrefixBuilder.FromTokens(model, TestModels.Tokens(9, 6));
        var composed = PrefixSegment.Compose([a, b]);
        Assert.Equal(12 + 8, PrefixSegment.TotalLength(composed));
        // The same keys copied into one tensor: A ++ B[1:], no re-rotation.
        using var joined = Joined(a, b, keys => keys);
        var tokens = TestModels.Tokens(10, 7);
        var viaSegments = FullLogits(model, tokens, composed);
        var viaCopy = FullLogits(model, tokens, [new PrefixSegment(joined, 0)]);
        var diff = (viaSegments - viaCopy).abs().max().item<float>();
        Assert.True(diff <= 1e-5, $"max |Δ| = {diff}");
    }

    [Fact]
    public void SharedPositions_EqualTheJoinedPrefixRotatedForward_AndLeaveOnePrefixAlone()
    {
        // RoPE is relative: a question right after the longest prefix (12) sees every key as a question after the
        // joined prefix (12 + 8 = 20) sees the same keys rotated 8 positions further.
        using var model = TestModels.Load(ModelFamily.Llama);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var a = PrefixBuilder.FromTokens(model, TestModels.Tokens(12, 5));
        using var b = PrefixBuilder.FromTokens(model, TestModels.Tokens(9, 6));
        var composed = PrefixSegment.Compose([a, b]);
        using var rope = new RotaryEmbedding(model.Config, model.DType, model.Device);
        Tensor Forward8(Tensor keys) // [n_kv, p, D] rotated 8 positions on
        {
            var x = keys.permute(1, 0, 2).unsqueeze(0);
            var positions = full(1, x.shape[1], 8L, dtype: ScalarType.Int64);
            return rope.Apply(x, positions, 8).squeeze(0).permute(1, 0, 2).contiguous();
        }
        using var joined = Joined(a, b, Forward8);
        var tokens = TestModels.Tokens(10, 7);
        var shared = FullLogits(model, tokens, composed, sharedPositions: true);
        var diff = (shared - FullLogits(model, tokens, [new PrefixSegment(joined, 0)])).abs().max().item<float>();
        // Rotating stored keys once more differs from rotating them once by float rounding (~1e-6 on O(1) keys), so
        // 1e-4 leaves a hundredfold margin; a question at the wrong position moves the logits by more than 1e-3 (below).
        Assert.True(diff <= 1e-4, $"max |Δ| = {diff}");
        var served = (shared - FullLogits(model, tokens, composed)).abs().max().item<float>();
        Assert.True(served > 1e-3, $"served composition places the question after both prefixes (max |Δ| = {served})");
        // A single prefix is placed the same either way.
        var once = FullLogits(model, tokens, [new PrefixSegment(a, 0)]);
        var single = (FullLogits(model, tokens, [new PrefixSegment(a, 0)], sharedPositions: true) - once).abs().max().item<float>();
        Assert.True(single <= 1e-6, $"one prefix: max |Δ| = {single}");
    }

    [Fact]
    public void PaddedBatch_EqualsEachSequenceAlone()
    {
        using var model = TestModels.Load(ModelFamily.Qwen3);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var prefix = PrefixBuilder.FromTokens(model, TestModels.Tokens(16, 8));
        int[][] seqs = [TestModels.Tokens(5, 9), TestModels.Tokens(11, 10), TestModels.Tokens(8, 11)];
        var logits = Cartridges.Model.Scoring.SequenceScorer.Logits(model, seqs, [new PrefixSegment(prefix, 0)]);
        for (var i = 0; i < seqs.Length; i++)
        {
            var alone = FullLogits(model, seqs[i], [new PrefixSegment(prefix, 0)]);
            var diff = (logits[i].narrow(0, 0, seqs[i].Length) - alone).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"sequence {i}: max |Δ| = {diff}");
        }
    }
}
