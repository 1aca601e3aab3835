// The element-wise pieces of a decode step on raw float32 rows: RMSNorm and rotary embedding. They touch a few KB per
// row, far less than one libtorch call costs to dispatch (about 5-15 µs each here), and are written to the definitions
// TransformerModel's tensor path uses (x·rsqrt(mean(x²) + eps)·w; x·cos + rotate_half(x)·sin).
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cartridges.Model.Runtime;

/// <summary>RMSNorm and RoPE over contiguous float32 rows.</summary>
internal static unsafe class RowMath
{
    /// <summary>y = x · rsqrt(mean(x²) + eps) · w over <paramref name="rows"/> rows of <paramref name="n"/>; y may be x.</summary>
    public static void RmsNorm(float* x, float* w, float* y, int rows, int n, float eps)
    {
        var weight = new ReadOnlySpan<float>(w, n);
        for (var r = 0; r < rows; r++)
        {
            var src = new ReadOnlySpan<float>(x + (long)r * n, n);
            var dst = new Span<float>(y + (long)r * n, n);
            var inverse = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(src) / n + eps);
            TensorPrimitives.Multiply(src, inverse, dst);
            TensorPrimitives.Multiply(weight, dst, dst);
        }
    }

    /// <summary>
    /// Rotates <paramref name="heads"/> head vectors of <paramref name="d"/> floats in place by one position's
    /// cos/sin rows (each [d], the half-frequencies repeated): x[i] ← x[i]·cos[i] − x[i+d/2]·sin[i] and
    /// x[i+d/2] ← x[i+d/2]·cos[i+d/2] + x[i]·sin[i+d/2].
    /// </summary>
    public static void Rope(float* x, int heads, int d, float* cos, float* sin)
    {
        var half = d / 2;
        for (var h = 0; h < heads; h++)
        {
            var v = x + (long)h * d;
            for (var i = 0; i < half; i++)
            {
                var a = v[i];
                var b = v[i + half];
                v[i] = a * cos[i] + -b * sin[i];
                v[i + half] = b * cos[i + half] + a * sin[i + half];
            }
        }
    }
}
