using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Transformer;

/// <summary>The slot allocator keeps its invariants through allocate, write, move, free and growth.</summary>
public sealed class KvCacheTests
{
    [Fact]
    public void AllocateWriteMoveFreeGrow_KeepInvariantsAndData()
    {
        using var cache = new KvCache(layers: 2, kvHeads: 2, headDim: 4, ScalarType.Float32, CPU, slots: 2, length: 16);
        using var scope = NewDisposeScope();
        var a = cache.Allocate();
        var b = cache.Allocate();
        var c = cache.Allocate(); // grows the slot dimension
        cache.CheckInvariants();
        Assert.Equal([0, 1, 2], new[] { a, b, c });
        Assert.True(cache.SlotCapacity >= 3);

        var k = arange(2 * 5 * 4, dtype: ScalarType.Float32).view(1, 2, 5, 4);
        for (var l = 0; l < 2; l++) cache.Write(l, [c], k, k * 2, null, null);
        cache.Advance([c], [5]);
        cache.CheckInvariants();

        cache.Reserve(40); // grows the length dimension, keeping data
        cache.CheckInvariants();
        Assert.True(cache.LengthCapacity >= 40);
        Assert.True(cache.Read(1, [c], 5).K.eq(k).all().item<bool>());

        cache.Free(a);
        cache.Move(c, a);
        cache.CheckInvariants();
        Assert.Equal(5, cache.LengthOf(a));
        Assert.Equal(0, cache.LengthOf(c));
        Assert.True(cache.Read(0, [a], 5).V.eq(k * 2).all().item<bool>());
        Assert.Equal([0, 1], cache.UsedSlots);

        using var prefix = cache.ToPrefix(a, 3);
        Assert.Equal(3, prefix.Length);
        Assert.True(prefix.Keys[0].eq(k[0].narrow(1, 0, 3)).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.ToPrefix(a, 6));
        Assert.Throws<InvalidOperationException>(() => cache.Move(a, b));
    }
}
