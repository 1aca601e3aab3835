using Cartridges.Model.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Runtime;

public sealed class HeldScalarsTests
{
    [Fact]
    public void HeldScalars_OutliveDisposeScopesAndCollections_AndComputeWhatTheOperatorsDo()
    {
        // First asked inside a scope that is then disposed, then used after full collections with finalizers run.
        using (NewDisposeScope())
        {
            _ = HeldScalars.Of(0.125);
            _ = HeldScalars.One;
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1f, 2f, 3f });
        var b = tensor(new[] { 0.5f, -1f, 4f });
        Assert.Equal((a + b).data<float>().ToArray(), a.Plus(b).data<float>().ToArray());
        Assert.Equal((a * 0.125).data<float>().ToArray(), a.Times(0.125).data<float>().ToArray());
        Assert.Equal((a + 1e-5).data<float>().ToArray(), a.Plus(1e-5).data<float>().ToArray());
        var ints = tensor(new long[] { 3, 4 });
        Assert.Equal(new long[] { 2, 3 }, ints.Plus(-1L).data<long>().ToArray());
        Assert.Equal(ScalarType.Int64, ints.Plus(-1L).dtype);
        Assert.Same(HeldScalars.Of(0.125), HeldScalars.Of(0.125));
    }
}
