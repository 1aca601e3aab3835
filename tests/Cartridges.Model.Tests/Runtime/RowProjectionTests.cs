using Cartridges.Model.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cartridges.Model.Tests.Runtime;

public sealed class RowProjectionTests
{
    static unsafe float* Floats(Tensor t)
    {
        fixed (byte* p = t.bytes) return (float*)p;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(8, 2)]
    public unsafe void Targets_MatchTheirTensorDefinitions(int rows, int threads)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var g = new Generator(5);
        // 520 inputs: not a multiple of a vector width; outputs of 300, 40 and 7 split unevenly over the threads.
        var x = randn([rows, 520], generator: g);
        var (w1, b1, w2, w3, w4) = (randn([300, 520], generator: g), randn([300], generator: g), randn([40, 520], generator: g),
            randn([7, 520], generator: g), randn([7, 520], generator: g));
        var residual = randn([rows, 40], generator: g);
        var plain = empty(rows, 300);
        var added = residual.clone();
        var swiglu = empty(rows, 7);

        RowProjection.Run(Floats(x), rows, 520, threads,
            new ProjectionTarget(Floats(w1), Floats(b1), Floats(plain), 300, 300),
            new ProjectionTarget(Floats(w2), null, Floats(added), 40, 40, residual: Floats(added)),
            new ProjectionTarget(Floats(w3), null, Floats(swiglu), 7, 7, w2: Floats(w4)));

        // Sums of 520 products of unit normals (|y| ~ 23) in another order than MKL's: ~1e-5 apart; 1e-4 + 1e-5|y|
        // leaves a tenfold margin.
        Assert.True(plain.allclose(F.linear(x, w1, b1), rtol: 1e-5, atol: 1e-4));
        Assert.True(added.allclose(residual + F.linear(x, w2), rtol: 1e-5, atol: 1e-4));
        Assert.True(swiglu.allclose(F.silu(F.linear(x, w3)) * F.linear(x, w4), rtol: 1e-4, atol: 1e-3));
    }
}
