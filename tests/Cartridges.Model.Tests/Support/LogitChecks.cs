// Comparing the arg-max of two computations of the same logits that differ only by fp32 rounding (other kernels,
// other row counts, cached vs full). The tiny random models have near-flat logits, so some rows have a top-1/top-2
// gap smaller than that rounding; there either token is a correct answer and exact equality would be luck.
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Support;

/// <summary>Arg-max agreement where the logits decide it.</summary>
public static class LogitChecks
{
    /// <summary>Top-1 minus top-2 logit of each row of [T, V] logits.</summary>
    public static float[] TopMargins(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var top = logits.topk(2, -1).values;
        return (top.select(-1, 0) - top.select(-1, 1)).data<float>().ToArray();
    }

    /// <summary>
    /// Asserts that <paramref name="other"/> has the arg-max of <paramref name="reference"/> at every row whose
    /// reference margin exceeds 2·<paramref name="maxDelta"/> (the largest element-wise difference of the two): there
    /// no difference that small can reorder the top two. Rows below that are near-ties that may resolve either way.
    /// At least <paramref name="minDecided"/> of the rows must qualify, so the check is never vacuous.
    /// </summary>
    /// <returns>The number of rows compared.</returns>
    public static int AssertArgmaxAgrees(Tensor reference, Tensor other, double maxDelta, double minDecided = 0.9)
    {
        var margins = TopMargins(reference);
        var a = reference.argmax(-1).data<long>().ToArray();
        var b = other.argmax(-1).data<long>().ToArray();
        var decided = Enumerable.Range(0, margins.Length).Where(i => margins[i] > 2 * maxDelta).ToArray();
        Assert.True(decided.Length >= minDecided * margins.Length,
            $"only {decided.Length}/{margins.Length} rows have a top-1 margin above 2·{maxDelta:E2} (smallest margin {margins.Min():E2})");
        Assert.All(decided, i => Assert.True(a[i] == b[i], $"row {i}: arg-max {a[i]} vs {b[i]} with margin {margins[i]:E2} > 2·{maxDelta:E2}"));
        return decided.Length;
    }
}
