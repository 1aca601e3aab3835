using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Transformer;

/// <summary>The paged cache keeps its invariants and data through allocate, write, free, growth and its budget.</summary>
public sealed class KvCacheTests
{
    /// <summary>Writes T tokens [1, kv, T, D] of distinct values for every layer of a slot, as a forward pass does.</summary>
    static Tensor WriteTokens(KvCache cache, int slot, int tokens, float offset)
    {
        var k = (arange(2 * tokens * 4, dtype: ScalarType.Float32) + offset).view(1, 2, tokens, 4);
        var length = cache.LengthOf(slot) + tokens;
        using var plan = cache.Plan([slot], tokens, length);
        for (var l = 0; l < 2; l++) cache.Write(l, plan, k, k * 2);
        cache.Advance([slot], [tokens]);
        return k;
    }

    static (Tensor K, Tensor V) ReadAll(KvCache cache, int slot)
    {
        using var plan = cache.Plan([slot], 0, cache.LengthOf(slot));
        return cache.Read(1, plan);
    }

    [Fact]
    public void SequencesTakeBlocks_AndFinishedOnesGiveThemBackWithoutMovingOthers()
    {
        using var cache = new KvCache(layers: 2, kvHeads: 2, headDim: 4, ScalarType.Float32, CPU, slots: 2, length: 8, blockSize: 4);
        using var scope = NewDisposeScope();
        Assert.Equal(4, cache.TotalBlocks);
        var a = cache.Allocate();
        var b = cache.Allocate();
        var ka = WriteTokens(cache, a, 5, 0);      // 2 blocks
        var kb = WriteTokens(cache, b, 3, 1000);   // 1 block
        cache.CheckInvariants();
        Assert.Equal([2, 1], new[] { cache.BlocksOf(a), cache.BlocksOf(b) });
        Assert.Equal(1, cache.FreeBlocks);

        var more = WriteTokens(cache, b, 6, 2000); // b grows to 9 tokens = 3 blocks: the pool doubles
        cache.CheckInvariants();
        Assert.Equal(8, cache.TotalBlocks);
        Assert.True(ReadAll(cache, a).K.eq(ka).all().item<bool>());
        Assert.True(ReadAll(cache, b).V.eq(cat([kb, more], 2) * 2).all().item<bool>());

        cache.Free(a); // its blocks go back; b's data stays where it is
        cache.CheckInvariants();
        Assert.Equal(5, cache.FreeBlocks);
        Assert.True(ReadAll(cache, b).K.eq(cat([kb, more], 2)).all().item<bool>());
        var c = cache.Allocate();
        Assert.Equal(a, c); // the lowest free slot is reused
        var kc = WriteTokens(cache, c, 4, 3000);
        Assert.True(ReadAll(cache, c).K.eq(kc).all().item<bool>());

        cache.Truncate(b, 4); // whole blocks past the kept tokens are freed
        cache.CheckInvariants();
        Assert.Equal(1, cache.BlocksOf(b));

        using var prefix = cache.ToPrefix(b, 3);
        Assert.Equal(3, prefix.Length);
        Assert.True(prefix.Keys[0].eq(kb[0]).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.ToPrefix(b, 5));
        Assert.Throws<InvalidOperationException>(() => cache.Shrink()); // slots in use
        cache.Free(b);
        cache.Free(c);
        cache.Shrink();
        Assert.Equal(4, cache.TotalBlocks);
        cache.CheckInvariants();
    }

    [Fact]
    public void ABatchReadsEachSequencesOwnBlocks_PaddedToTheLongest()
    {
        using var cache = new KvCache(layers: 2, kvHeads: 2, headDim: 4, ScalarType.Float32, CPU, slots: 3, length: 4, blockSize: 2);
        using var scope = NewDisposeScope();
        var slots = new[] { cache.Allocate(), cache.Allocate(), cache.Allocate() };
        var written = new[] { WriteTokens(cache, slots[0], 3, 0), WriteTokens(cache, slots[1], 1, 100), WriteTokens(cache, slots[2], 5, 200) };
        using var plan = cache.Plan(slots, 0, 5);
        var (k, _) = cache.Read(0, plan);
        Assert.Equal(new long[] { 3, 2, 5, 4 }, k.shape);
        for (var i = 0; i < 3; i++)
        {
            var n = (int)written[i].shape[2];
            Assert.True(k[i].narrow(1, 0, n).eq(written[i][0]).all().item<bool>(), $"sequence {i}");
        }
    }

    [Fact]
    public void AtItsBudget_ThePoolRefusesToGrow_AndNamesTheLimit()
    {
        using var cache = new KvCache(layers: 2, kvHeads: 2, headDim: 4, ScalarType.Float32, CPU, slots: 1, length: 4, blockSize: 4, maxBlocks: 3);
        using var scope = NewDisposeScope();
        var a = cache.Allocate();
        WriteTokens(cache, a, 12, 0);
        Assert.Equal(0, cache.AvailableBlocks);
        var error = Assert.Throws<KvCacheFullException>(() => cache.Reserve(a, 13));
        Assert.Contains("at most 3", error.Message);
        cache.CheckInvariants();
        Assert.Equal(12, cache.LengthOf(a));
    }
}
