using Cartridges.Model.Engine;

namespace Cartridges.Model.Tests.Engine;

/// <summary>Token selection rules, checked on small hand-made distributions.</summary>
public sealed class SamplerTests
{
    static readonly float[] Logits = [1.0f, 3.0f, 2.0f, 0.5f, 2.9f];

    [Fact]
    public void Greedy_TopK1_AndTinyTopP_AllPickTheArgMax()
    {
        Assert.Equal(1, new Sampler(new SamplingParams()).Next(Logits));
        Assert.Equal(1, new Sampler(new SamplingParams { Temperature = 1, TopK = 1, Seed = 3 }).Next(Logits));
        Assert.Equal(1, new Sampler(new SamplingParams { Temperature = 1, TopP = 0.01f, Seed = 3 }).Next(Logits));
    }

    [Fact]
    public void Frequencies_FollowTheTemperedSoftmax_WithinTopK()
    {
        var sampler = new Sampler(new SamplingParams { Temperature = 0.5f, TopK = 3, Seed = 11 });
        var counts = new int[Logits.Length];
        const int N = 20000;
        for (var i = 0; i < N; i++) counts[sampler.Next(Logits)]++;
        var kept = new[] { 1, 4, 2 };
        var weights = kept.Select(i => Math.Exp(Logits[i] / 0.5)).ToArray();
        for (var j = 0; j < kept.Length; j++) Assert.Equal(weights[j] / weights.Sum(), counts[kept[j]] / (double)N, 2);
        Assert.Equal(0, counts[0] + counts[3]);
    }
}
