using Cartridges.Model.Engine;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Engine;

/// <summary>Token selection rules (a sequence's stream, chosen on the device), checked on small hand-made distributions.</summary>
public sealed class SamplerTests
{
    static readonly float[] Logits = [1.0f, 3.0f, 2.0f, 0.5f, 2.9f];

    /// <summary>One engine step for one sequence: its draw (when it samples), then the device's choice.</summary>
    static long Next(Sampler sampler, float[] logits) =>
        DeviceSampling.Choose(tensor(logits).view(1, -1), [sampler.Params], [sampler.IsGreedy ? 0 : sampler.NextUniform()])[0];

    [Fact]
    public void Greedy_TopK1_AndTinyTopP_AllPickTheArgMax()
    {
        Assert.Equal(1, Next(new Sampler(new SamplingParams()), Logits));
        Assert.Equal(1, Next(new Sampler(new SamplingParams { Temperature = 1, TopK = 1, Seed = 3 }), Logits));
        Assert.Equal(1, Next(new Sampler(new SamplingParams { Temperature = 1, TopP = 0.01f, Seed = 3 }), Logits));
    }

    [Fact]
    public void Frequencies_FollowTheTemperedSoftmax_WithinTopK()
    {
        var sampler = new Sampler(new SamplingParams { Temperature = 0.5f, TopK = 3, Seed = 11 });
        var counts = new int[Logits.Length];
        const int N = 20000;
        for (var i = 0; i < N; i++) counts[Next(sampler, Logits)]++;
        var kept = new[] { 1, 4, 2 };
        var weights = kept.Select(i => Math.Exp(Logits[i] / 0.5)).ToArray();
        for (var j = 0; j < kept.Length; j++) Assert.Equal(weights[j] / weights.Sum(), counts[kept[j]] / (double)N, 2);
        Assert.Equal(0, counts[0] + counts[3]);
    }
}
