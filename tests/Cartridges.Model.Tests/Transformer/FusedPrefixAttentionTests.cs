using Cartridges.Model.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Transformer;

/// <summary>The fused prefix pass (training and long prompts) against plain attention over [prefix, own] keys.</summary>
public sealed class FusedPrefixAttentionTests(ITestOutputHelper output)
{
    const int KvHeads = 2, Groups = 2, HeadDim = 8, Layer = 1;

    /// <summary>Reference: scores over concatenated keys, an explicit mask, softmax, in float64.</summary>
    static Tensor Reference(Tensor q, Tensor k, Tensor v, Tensor pk, Tensor pv)
    {
        var b = q.shape[0];
        var t = k.shape[2];
        var p = pk.shape[1];
        var keys = cat([pk.unsqueeze(0).expand(b, -1, -1, -1), k], 2).repeat_interleave(Groups, 1).to(ScalarType.Float64);
        var values = cat([pv.unsqueeze(0).expand(b, -1, -1, -1), v], 2).repeat_interleave(Groups, 1).to(ScalarType.Float64);
        var q4 = q.view(b, KvHeads * Groups, t, HeadDim).to(ScalarType.Float64);
        var visible = cat([ones(t, p, ScalarType.Bool), ones(t, t, ScalarType.Bool).tril()], 1);
        var scores = matmul(q4, keys.transpose(-1, -2)) / Math.Sqrt(HeadDim);
        var o = matmul(scores.masked_fill(visible.logical_not(), double.NegativeInfinity).softmax(-1), values);
        return o.reshape(b, KvHeads, Groups * t, HeadDim).to(ScalarType.Float32);
    }

    static KvPrefix RandomPrefix(int length, Generator g) => new(
        [.. Enumerable.Range(0, Layer + 1).Select(_ => randn(KvHeads, length, HeadDim, generator: g).requires_grad_())],
        [.. Enumerable.Range(0, Layer + 1).Select(_ => randn(KvHeads, length, HeadDim, generator: g).requires_grad_())]);

    [Theory]
    [InlineData(1, 12, false)] // one cartridge, one sequence
    [InlineData(3, 40, false)] // a micro-batch
    [InlineData(2, 17, true)]  // two composed cartridges (the second's sink dropped)
    public void OutputsAndGradients_EqualPlainAttention(int batch, int tokens, bool composed)
    {
        var g = new Generator(7);
        using var first = RandomPrefix(9, g);
        using var second = RandomPrefix(6, g);
        var segments = composed ? PrefixSegment.Compose([first, second]) : [new PrefixSegment(first, 0)];
        var q = randn(batch, KvHeads, Groups * tokens, HeadDim, generator: g).requires_grad_();
        var k = randn(batch, KvHeads, tokens, HeadDim, generator: g).requires_grad_();
        var v = randn(batch, KvHeads, tokens, HeadDim, generator: g).requires_grad_();
        var upstream = randn(batch, KvHeads, Groups * tokens, HeadDim, generator: g);

        var fused = PrefixAttention.FusedWithPrefix(q, k, v, Groups, segments, Layer);
        var fusedGrads = Gradients(fused, upstream, q, k, v, first, second);

        Tensor Cat(Func<KvPrefix, Tensor[]> pick) => cat([.. segments.Select(s => pick(s.Prefix)[Layer].narrow(1, s.Start, s.Length))], 1);
        var reference = Reference(q, k, v, Cat(p => p.Keys), Cat(p => p.Values));
        var referenceGrads = Gradients(reference, upstream, q, k, v, first, second);

        // f32 kernels against a float64 reference: rounding of sums of tens of terms of size ~1, so 1e-5.
        var outDiff = (fused - reference).abs().max().item<float>();
        output.WriteLine($"output max |diff| {outDiff:E2}");
        Assert.True(outDiff < 1e-5, $"output differs by {outDiff}");
        for (var i = 0; i < fusedGrads.Length; i++)
        {
            var diff = (fusedGrads[i] - referenceGrads[i]).abs().max().item<float>();
            output.WriteLine($"gradient {i} max |diff| {diff:E2}");
            Assert.True(diff < 1e-4, $"gradient {i} differs by {diff}");
        }
        Assert.True(fusedGrads[3].abs().sum().item<float>() > 0, "the prefix keys get a gradient");
        Assert.Equal(composed, fusedGrads[5].abs().sum().item<float>() > 0);
    }

    /// <summary>Gradients of Σ out·upstream with respect to q, k, v and both prefixes' keys and values at Layer.</summary>
    static Tensor[] Gradients(Tensor output, Tensor upstream, Tensor q, Tensor k, Tensor v, KvPrefix first, KvPrefix second)
    {
        Tensor[] inputs = [q, k, v, first.Keys[Layer], first.Values[Layer], second.Keys[Layer], second.Values[Layer]];
        var grads = autograd.grad([(output * upstream).sum()], inputs, allow_unused: true);
        return [.. grads.Select((x, i) => x is null || x.IsInvalid ? zeros_like(inputs[i]) : x)];
    }
}
