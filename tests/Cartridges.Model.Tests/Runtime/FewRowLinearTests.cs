using Cartridges.Model.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cartridges.Model.Tests.Runtime;

public sealed class FewRowLinearTests
{
    static Tensor Random(Generator g, params long[] shape) => randn(shape, generator: g);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(3, 2)]
    [InlineData(8, 2)]
    [InlineData(8, 1)]
    public void Forward_MatchesLinear_WithAndWithoutBias(int rows, int threads)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var g = new Generator(7);
        // 300 x 520: above the parallel threshold, and neither dimension a multiple of a vector width.
        var w = Random(g, 300, 520);
        var bias = Random(g, 300);
        var x = Random(g, rows, 520);
        Assert.True(FewRowLinear.Applies(x, w, bias));
        // Sums of 520 products of unit normals (|y| ~ 23) in another order than MKL's: f32 rounding differs by
        // ~1e-5 absolute; the bounds below (1e-4 + 1e-5 |y|) leave more than 10x margin.
        var expected = F.linear(x, w, bias);
        Assert.True(FewRowLinear.Forward(x, w, bias, threads).allclose(expected, rtol: 1e-5, atol: 1e-4));
        Assert.True(FewRowLinear.Forward(x, w, null, threads).allclose(F.linear(x, w), rtol: 1e-5, atol: 1e-4));
    }

    [Fact]
    public void Forward_ReadsViewsAtTheirOffset_AndKeepsLeadingDimensions()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var g = new Generator(3);
        var w = Random(g, 64, 40);
        var wide = Random(g, 2, 3, 90);
        var x = wide.narrow(2, 25, 40); // non-contiguous, starts 25 floats into its storage
        var y = FewRowLinear.Forward(x, w, null);
        Assert.Equal(new long[] { 2, 3, 64 }, y.shape);
        Assert.True(y.allclose(F.linear(x, w), rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Forward_GivesARowTheSameBitsAloneOrInABatch()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var g = new Generator(11);
        var w = Random(g, 512, 512);
        var x = Random(g, 8, 512);
        var batched = FewRowLinear.Forward(x, w, null, 2);
        for (var r = 0; r < 8; r++)
            Assert.True(FewRowLinear.Forward(x.narrow(0, r, 1), w, null, 2).equal(batched.narrow(0, r, 1)).all().item<bool>(), $"row {r}");
    }

    [Fact]
    public void Applies_OnlyToFewFloatRowsThatAutogradNeedNotSee()
    {
        using var scope = NewDisposeScope();
        var w = zeros(16, 8);
        Assert.True(FewRowLinear.Applies(zeros(1, 8), w, null));
        Assert.False(FewRowLinear.Applies(zeros(FewRowLinear.MaxRows + 1, 8), w, null));
        Assert.False(FewRowLinear.Applies(zeros(1, 8, dtype: ScalarType.Float64), w, null));
        Assert.False(FewRowLinear.Applies(zeros(1, 8), zeros(8, 16).t(), null)); // weight not contiguous
        Assert.False(FewRowLinear.Applies(zeros(1, 8), w, zeros(15)));
        Assert.False(FewRowLinear.Applies(zeros(1, 8), zeros(16, 8).requires_grad_(), null));
        using (no_grad()) Assert.True(FewRowLinear.Applies(zeros(1, 8), zeros(16, 8).requires_grad_(), null));
    }
}
