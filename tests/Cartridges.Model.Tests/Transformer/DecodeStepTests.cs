using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Transformer;

/// <summary>The CPU decode step against the tensor path it replaces: hidden states, the cache it writes, bad input.</summary>
public sealed class DecodeStepTests(ITestOutputHelper output)
{
    /// <summary>Three sequences of different cached lengths (across block boundaries): no prefix, one, two composed.</summary>
    sealed class Scene : IDisposable
    {
        public readonly KvPrefix A, B;
        public readonly IReadOnlyList<PrefixSegment>[] Prefixes;
        public readonly KvCache Cache;
        public readonly int[] Slots;

        public Scene(TransformerModel model)
        {
            A = PrefixBuilder.FromTokens(model, TestModels.Tokens(12, 21));
            B = PrefixBuilder.FromTokens(model, TestModels.Tokens(9, 22));
            Prefixes = [[], [new PrefixSegment(A, 0)], PrefixSegment.Compose([A, B])];
            Cache = model.NewCache(2, 8);
            Cache.Allocate(); // a slot left empty: the others are not slot 0
            Slots = [Cache.Allocate(), Cache.Allocate(), Cache.Allocate()];
            int[] lengths = [5, 17, 31];
            for (var i = 0; i < 3; i++)
                model.Forward(new ForwardBatch
                {
                    Tokens = Ids(TestModels.Tokens(lengths[i], 30 + i)).view(1, -1),
                    Cache = Cache,
                    Slots = [Slots[i]],
                    Prefixes = [Prefixes[i]],
                });
        }

        public void Dispose()
        {
            Cache.Dispose();
            A.Dispose();
            B.Dispose();
        }
    }

    static Tensor Ids(int[] tokens) => tensor(tokens.Select(t => (long)t).ToArray());

    static Tensor Step(TransformerModel model, Scene scene, int[] tokens, bool tensorPath, bool sharedPositions = false, int[]? only = null)
    {
        var rows = only ?? [0, 1, 2];
        return model.Forward(new ForwardBatch
        {
            Tokens = Ids([.. rows.Select(r => tokens[r])]).view(-1, 1),
            Cache = scene.Cache,
            Slots = [.. rows.Select(r => scene.Slots[r])],
            Prefixes = [.. rows.Select(r => scene.Prefixes[r])],
            SharedPrefixPositions = sharedPositions,
            TensorPath = tensorPath,
        });
    }

    static float MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData(ModelFamily.Llama, false)]
    [InlineData(ModelFamily.Qwen3, false)]
    [InlineData(ModelFamily.Llama, true)]
    public void DecodeSteps_EqualTheTensorPath_HiddenStatesAndCache(ModelFamily family, bool sharedPositions)
    {
        using var model = TestModels.Load(family);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var fast = new Scene(model);
        using var reference = new Scene(model);
        Assert.True(DecodeStep.Applies(model, new ForwardBatch { Tokens = zeros(3, 1, ScalarType.Int64), Cache = fast.Cache, Slots = fast.Slots }));
        var worst = 0f;
        for (var step = 0; step < 6; step++)
        {
            var tokens = TestModels.Tokens(3, 100 + step);
            var h = Step(model, fast, tokens, tensorPath: false, sharedPositions);
            var expected = Step(model, reference, tokens, tensorPath: true, sharedPositions);
            // Both are f32 sums of the same products in other orders (~1e-6 on O(1) normed states); 1e-4 leaves a
            // hundredfold margin, while a wrong position, key or head moves them by far more.
            worst = Math.Max(worst, MaxDiff(h, expected));
            Assert.True(worst <= 1e-4, $"step {step}: hidden states differ by {worst}");
        }
        for (var i = 0; i < 3; i++)
        {
            var length = fast.Cache.LengthOf(fast.Slots[i]);
            Assert.Equal(reference.Cache.LengthOf(reference.Slots[i]), length);
            using var a = fast.Cache.ToPrefix(fast.Slots[i], length);
            using var b = reference.Cache.ToPrefix(reference.Slots[i], length);
            for (var l = 0; l < a.Keys.Length; l++)
            {
                Assert.True(MaxDiff(a.Keys[l], b.Keys[l]) <= 1e-4, $"sequence {i} layer {l}: cached keys differ");
                Assert.True(MaxDiff(a.Values[l], b.Values[l]) <= 1e-4, $"sequence {i} layer {l}: cached values differ");
            }
        }
        output.WriteLine($"{family} shared positions {sharedPositions}: max |Δ hidden| over 6 steps = {worst:E2}");
    }

    [Fact]
    public void EachSequence_DecodesToTheSameBits_AloneOrBatched()
    {
        using var model = TestModels.Load(ModelFamily.Qwen3);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var batched = new Scene(model);
        using var alone = new Scene(model);
        for (var step = 0; step < 3; step++)
        {
            var tokens = TestModels.Tokens(3, 200 + step);
            var together = Step(model, batched, tokens, tensorPath: false);
            for (var i = 0; i < 3; i++)
            {
                var single = Step(model, alone, tokens, tensorPath: false, only: [i])[0];
                Assert.True(together[i].equal(single).all().item<bool>(), $"sequence {i}, step {step}: max |Δ| = {MaxDiff(together[i], single)}");
            }
        }
    }

    [Fact]
    public void TokenOutsideTheVocabulary_IsRefused_AndTheCacheIsUntouched()
    {
        using var model = TestModels.Load(ModelFamily.Llama);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var scene = new Scene(model);
        var before = scene.Slots.Select(scene.Cache.LengthOf).ToArray();
        var e = Assert.Throws<ArgumentException>(() => Step(model, scene, [1, model.Config.VocabSize, 2], tensorPath: false));
        Assert.Contains($"Token id {model.Config.VocabSize} is outside the vocabulary", e.Message);
        Assert.Equal(before, scene.Slots.Select(scene.Cache.LengthOf).ToArray());
    }

    [Fact]
    public void OtherPasses_TakeTheTensorPath()
    {
        using var model = TestModels.Load(ModelFamily.Llama);
        using var scope = NewDisposeScope();
        using var cache = model.NewCache(9, 8);
        var slots = Enumerable.Range(0, 9).Select(_ => cache.Allocate()).ToArray();
        ForwardBatch Batch(int b, int t, bool withCache = true) =>
            new() { Tokens = zeros(b, t, ScalarType.Int64), Cache = withCache ? cache : null, Slots = withCache ? slots[..b] : null };
        using (no_grad())
        {
            Assert.True(DecodeStep.Applies(model, Batch(8, 1)));
            Assert.False(DecodeStep.Applies(model, Batch(9, 1)), "more rows than a few-row step");
            Assert.False(DecodeStep.Applies(model, Batch(1, 2)), "a prompt pass");
            Assert.False(DecodeStep.Applies(model, Batch(1, 1, withCache: false)), "no cache");
        }
        Assert.False(DecodeStep.Applies(model, Batch(1, 1)), "autograd on");
    }
}
