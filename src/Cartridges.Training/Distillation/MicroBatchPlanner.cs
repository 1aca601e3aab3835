// Splits a global batch (method §4: 64 sequences per optimizer step) into micro-batches that fit in memory.
// Sequences are length-bucketed (sorted longest first) so right-padding inside a micro-batch stays small;
// packing several sequences into one row would need block-diagonal masks the scorer does not take.
namespace Cartridges.Training.Distillation;

/// <summary>Length-bucketed micro-batches of a global batch.</summary>
internal static class MicroBatchPlanner
{
    /// <summary>
    /// Groups `indices` into micro-batches of at most `maxSequences` sequences and `maxTokens` padded tokens
    /// (sequences × longest); a sequence longer than `maxTokens` gets a micro-batch of its own.
    /// </summary>
    public static List<int[]> Plan(IReadOnlyList<int> indices, Func<int, int> length, int maxSequences, int maxTokens)
    {
        // Stable sort: equal lengths keep their batch order, so the plan is deterministic.
        var sorted = indices.OrderByDescending(length).ToArray();
        var plan = new List<int[]>();
        var current = new List<int>();
        var longest = 0;
        foreach (var index in sorted)
        {
            var rowLength = Math.Max(longest, length(index));
            if (current.Count > 0 && (current.Count == maxSequences || (current.Count + 1) * rowLength > maxTokens))
            {
                plan.Add([.. current]);
                current.Clear();
                rowLength = length(index);
            }
            current.Add(index);
            longest = rowLength;
        }
        if (current.Count > 0) plan.Add([.. current]);
        return plan;
    }
}
