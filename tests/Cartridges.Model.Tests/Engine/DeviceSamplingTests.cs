using Cartridges.Model.Engine;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Engine;

/// <summary>Choices made on the device against a plain host implementation of the same definition.</summary>
public sealed class DeviceSamplingTests
{
    /// <summary>Reference: sort descending, top-k, weights exp((z − max)/T), shortest head reaching top_p, inverse CDF at u.</summary>
    static int Reference(float[] logits, SamplingParams p, double u)
    {
        if (p.Temperature == 0) return Array.IndexOf(logits, logits.Max());
        var order = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).ToArray();
        var count = p.TopK > 0 ? Math.Min(p.TopK, logits.Length) : logits.Length;
        var weights = order.Take(count).Select(i => Math.Exp(((double)logits[i] - logits[order[0]]) / p.Temperature)).ToArray();
        var total = weights.Sum();
        if (p.TopP < 1)
        {
            double mass = 0;
            for (var i = 0; i < count; i++)
            {
                mass += weights[i] / total;
                if (mass >= p.TopP)
                {
                    count = i + 1;
                    break;
                }
            }
        }
        var left = u * weights.Take(count).Sum();
        for (var i = 0; i < count; i++)
        {
            left -= weights[i];
            if (left < 0) return order[i];
        }
        return order[count - 1];
    }

    static readonly SamplingParams[] Settings =
    [
        new() { Temperature = 0 },
        new() { Temperature = 1 },
        new() { Temperature = 0.5f },
        new() { Temperature = 1.5f, TopK = 5 },
        new() { Temperature = 1, TopK = 1 },
        new() { Temperature = 0.8f, TopP = 0.9f },
        new() { Temperature = 1, TopP = 0.3f, TopK = 50 },
        new() { Temperature = 2, TopK = 700 }, // more than the vocabulary
    ];

    [Fact]
    public void EveryRowOfAMixedBatch_ChoosesWhatTheDefinitionChooses()
    {
        var random = new Random(3);
        const int vocab = 500;
        var mismatches = 0;
        var distinct = new HashSet<long>();
        for (var round = 0; round < 40; round++)
        {
            var settings = Enumerable.Range(0, 16).Select(_ => Settings[random.Next(Settings.Length)]).ToArray();
            var uniforms = settings.Select(_ => random.NextDouble()).ToArray();
            // Peaked rows (a few large logits) so that top-k and top-p cut at different places.
            var rows = settings.Select(_ => Enumerable.Range(0, vocab).Select(_ => (float)(random.NextDouble() * 4 + (random.Next(20) == 0 ? 6 : 0))).ToArray()).ToArray();
            var logits = tensor(rows.SelectMany(r => r).ToArray()).view(settings.Length, vocab);
            var chosen = DeviceSampling.Choose(logits, settings, uniforms);
            for (var i = 0; i < settings.Length; i++)
            {
                if (chosen[i] != Reference(rows[i], settings[i], uniforms[i])) mismatches++;
                if (settings[i].Temperature == 1 && settings[i].TopK == 0 && settings[i].TopP == 1) distinct.Add(chosen[i]);
            }
        }
        Assert.Equal(0, mismatches);
        Assert.True(distinct.Count > 10, $"plain sampling should spread over many tokens, got {distinct.Count}");
    }

    [Fact]
    public void ARowsChoice_DoesNotDependOnTheOtherRows()
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 300).Select(_ => (float)random.NextDouble() * 5).ToArray()).ToArray();
        var settings = Enumerable.Range(0, 6).Select(i => Settings[i + 1]).ToArray();
        var uniforms = Enumerable.Range(0, 6).Select(_ => random.NextDouble()).ToArray();
        var together = DeviceSampling.Choose(tensor(rows.SelectMany(r => r).ToArray()).view(6, -1), settings, uniforms);
        for (var i = 0; i < 6; i++)
            Assert.Equal(together[i], DeviceSampling.Choose(tensor(rows[i]).view(1, -1), [settings[i]], [uniforms[i]])[0]);
    }
}
