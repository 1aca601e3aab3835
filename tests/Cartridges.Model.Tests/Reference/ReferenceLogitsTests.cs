// Acceptance: our TorchSharp transformer and llama.cpp (an independent implementation) compute the same logits
// from the same random weights, for the Llama (llama3 RoPE scaling, tied head) and Qwen3 (q/k norm, explicit
// head_dim, untied head) layouts.
using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Reference;

public sealed class ReferenceLogitsTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-4;
    const int TokenCount = 40;
    const long LlamaSeed = 20240601;
    const long Qwen3Seed = 20240602;

    [Fact]
    public void Llama_LogitsMatchLlamaCpp() => AssertMatches(Measure(ModelFamily.Llama, LlamaSeed));

    [Fact]
    public void Qwen3_LogitsMatchLlamaCpp() => AssertMatches(Measure(ModelFamily.Qwen3, Qwen3Seed));

    /// <summary>
    /// Negative control: without the llama3 frequency factors llama.cpp must disagree by more than the tolerance,
    /// so the Llama comparison above really checks the llama3 scaling at these 40 positions.
    /// </summary>
    [Fact]
    public void Llama_WithoutRopeFreqs_ExceedsTolerance()
    {
        var m = Measure(ModelFamily.Llama, LlamaSeed, ropeFreqs: false);
        Assert.True(m.MaxDelta > Tolerance,
            $"Dropping rope_freqs.weight changed the logits by only {m.MaxDelta:E3}; the llama3 scaling is not exercised.");
    }

    sealed record Comparison(double MaxDelta, double MaxAbsLogit, IReadOnlyList<string> ArgmaxMismatches, int ArgmaxCompared, int Positions);

    static void AssertMatches(Comparison m)
    {
        // The comparison is only meaningful if the logits are far from flat.
        Assert.True(m.MaxAbsLogit > 100 * Tolerance, $"Logits are nearly zero (max |logit| {m.MaxAbsLogit}); the comparison would be vacuous.");
        Assert.True(m.MaxDelta <= Tolerance, $"max |Δlogit| {m.MaxDelta:E3} exceeds {Tolerance:E0}.");
        Assert.True(m.ArgmaxCompared >= 0.9 * m.Positions, $"arg-max compared at only {m.ArgmaxCompared}/{m.Positions} positions");
        Assert.Empty(m.ArgmaxMismatches);
    }

    Comparison Measure(ModelFamily family, long seed, bool ropeFreqs = true)
    {
        var root = Directory.CreateTempSubdirectory("reference-logits-").FullName;
        try
        {
            var modelDir = Path.Combine(root, "model");
            var config = RandomModelWriter.Create(modelDir, family, "tiny", seed, ScalarType.Float32);
            var gguf = Path.Combine(root, "model.gguf");
            var arch = GgufConverter.Convert(modelDir, gguf, ropeFreqs);
            var tokens = SpreadTokens(config.VocabSize, TokenCount);

            var ours = OurLogits(modelDir, tokens);
            var theirs = LlamaCppReference.Logits(gguf, tokens);
            foreach (var line in LlamaCppReference.LastLog().Split('\n').Where(l => l.Contains("llama_kv_cache: size") || l.Contains("flash_attn")))
                output.WriteLine("llama.cpp: " + line.Trim());

            Assert.Equal(tokens.Length, ours.Length);
            Assert.Equal(tokens.Length, theirs.Length);
            var (maxDelta, worstPosition, worstToken) = (0.0, -1, -1);
            var maxAbs = 0.0;
            var argmaxes = new List<(int Position, int Ours, int Theirs, double Margin)>();
            for (var p = 0; p < tokens.Length; p++)
            {
                Assert.Equal(config.VocabSize, ours[p].Length);
                Assert.Equal(config.VocabSize, theirs[p].Length);
                for (var v = 0; v < config.VocabSize; v++)
                {
                    var d = Math.Abs((double)ours[p][v] - theirs[p][v]);
                    if (!(d <= maxDelta)) (maxDelta, worstPosition, worstToken) = (d, p, v); // NaN counts as worst
                    maxAbs = Math.Max(maxAbs, Math.Abs(ours[p][v]));
                }
                int a = ArgMax(ours[p]), b = ArgMax(theirs[p]);
                argmaxes.Add((p, a, b, ours[p][a] - ours[p].Where((_, v) => v != a).Max()));
            }
            // Arg-maxes must agree where our top-1 margin exceeds 2·max |Δlogit|: there no element-wise difference that
            // small can reorder the top two. Below it the two implementations may break a near-tie either way.
            var decided = argmaxes.Where(x => x.Margin > 2 * maxDelta).ToArray();
            var mismatches = decided.Where(x => x.Ours != x.Theirs)
                .Select(x => $"pos {x.Position}: ours {x.Ours} ({ours[x.Position][x.Ours]:R}) vs llama.cpp {x.Theirs} ({theirs[x.Position][x.Theirs]:R}), margin {x.Margin:E2}")
                .ToList();
            var undecided = argmaxes.Count(x => x.Margin <= 2 * maxDelta);
            var distinct = ours.Select(ArgMax).Distinct().Count();
            output.WriteLine($"{family} tiny (arch {arch}{(ropeFreqs ? "" : ", WITHOUT rope_freqs")}, head_dim {config.HeadDim}, " +
                             $"vocab {config.VocabSize}, {tokens.Length} tokens): max |Δlogit| = {maxDelta:E3} at pos {worstPosition} " +
                             $"token {worstToken}; max |logit| = {maxAbs:F4}; argmax agrees at {argmaxes.Count(x => x.Ours == x.Theirs)}/" +
                             $"{tokens.Length} positions ({distinct} distinct argmax ids; {undecided} with a top-1 margin ≤ 2·max |Δ|)");
            foreach (var m in mismatches) output.WriteLine("  argmax mismatch " + m);
            return new Comparison(maxDelta, maxAbs, mismatches, decided.Length, tokens.Length);
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Deterministic ids spread over the whole vocabulary, the last id included.</summary>
    static int[] SpreadTokens(int vocab, int count)
    {
        var ids = new int[count];
        for (var i = 0; i < count; i++) ids[i] = (int)((17 + i * 12_347L) % vocab);
        ids[count / 2] = vocab - 1;
        return ids;
    }

    static float[][] OurLogits(string modelDir, int[] tokens)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var model = TransformerModel.Load(modelDir, CPU, ScalarType.Float32);
        var ids = tensor(tokens.Select(t => (long)t).ToArray()).view(1, -1);
        var hidden = model.Forward(new ForwardBatch { Tokens = ids });
        var logits = model.Logits(hidden).contiguous();
        var v = (int)logits.shape[2];
        var flat = logits.reshape(-1).data<float>().ToArray();
        return Enumerable.Range(0, tokens.Length).Select(p => flat.AsSpan(p * v, v).ToArray()).ToArray();
    }

    static int ArgMax(float[] row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
