using Cartridges.Training.Distillation;

namespace Cartridges.Training.Tests.Distillation;

/// <summary>Seeded per-epoch shuffles, cursor round trips, and length-bucketed micro-batches (no tensors).</summary>
public sealed class DataOrderTests
{
    [Fact]
    public void DataOrder_VisitsEveryIndexOncePerEpoch_AndDependsOnTheSeed()
    {
        var order = new DataOrder(7, seed: 1);
        var first = order.Next(7);
        var second = order.Next(7);
        Assert.Equal(Enumerable.Range(0, 7), first.Order());
        Assert.Equal(Enumerable.Range(0, 7), second.Order());
        Assert.NotEqual(first, second);
        Assert.NotEqual(first, new DataOrder(7, seed: 2).Next(7));
        Assert.Equal(first, new DataOrder(7, seed: 1).Next(7));
    }

    [Fact]
    public void DataOrder_RestoredFromACursor_ContinuesIdentically()
    {
        var order = new DataOrder(5, seed: 42);
        order.Next(8); // into the second epoch
        var restored = new DataOrder(5, order.Cursor);
        Assert.Equal(1, order.Cursor.Epoch);
        Assert.Equal(order.Next(13), restored.Next(13));
    }

    [Fact]
    public void MicroBatchPlanner_BucketsByLength_WithinSequenceAndTokenLimits()
    {
        int[] lengths = [10, 50, 12, 48, 11, 200];
        var plan = MicroBatchPlanner.Plan([0, 1, 2, 3, 4, 5], i => lengths[i], maxSequences: 2, maxTokens: 120);
        // Longest first; 200 exceeds the token budget and goes alone; [50, 48] pads to 100 ≤ 120.
        Assert.Equal([[5], [1, 3], [2, 4], [0]], plan);
        Assert.Equal(Enumerable.Range(0, 6), plan.SelectMany(b => b).Order());
    }
}
