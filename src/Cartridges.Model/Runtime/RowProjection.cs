// One projection stage of a decode step as one job on the spin workers. Weights that read the same input rows (q, k
// and v; gate and up) share one wake-up of the workers, and what follows a projection element by element (the
// residual add after o_proj and down_proj, SwiGLU's silu(gate)·up) is done as each output is made, so none of them is
// a pass of its own. Each output element is one TensorPrimitives.Dot per weight row, as in FewRowLinear, so a row gets
// the same bits alone or batched.
using System.Runtime.CompilerServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cartridges.Model.Runtime;

/// <summary>
/// Output features [0, N) of y[r] = x[r]·Wᵀ (+ bias) (+ residual[r]); with a second weight, y = silu(x·Wᵀ)·(x·W2ᵀ).
/// Pointers address float32 memory the caller keeps alive; rows of y and residual are <see cref="Stride"/> apart.
/// </summary>
internal readonly unsafe struct ProjectionTarget(float* w, float* bias, float* y, int n, int stride, float* w2 = null, float* residual = null)
{
    public readonly float* W = w, Bias = bias, Y = y, W2 = w2, Residual = residual;
    public readonly int N = n, Stride = stride;
}

/// <summary>Runs several projections of the same few input rows as one parallel job.</summary>
internal sealed unsafe class RowProjection : IPartedJob
{
    readonly float* _x;
    readonly int _rows, _k, _total;
    readonly ProjectionTarget[] _targets;

    RowProjection(float* x, int rows, int k, ProjectionTarget[] targets)
    {
        _x = x;
        (_rows, _k, _targets) = (rows, k, targets);
        foreach (var t in targets) _total += t.N;
    }

    /// <summary>Projects <paramref name="rows"/> rows of <paramref name="k"/> floats at <paramref name="x"/> into every target.</summary>
    public static void Run(float* x, int rows, int k, int threads, params ProjectionTarget[] targets) =>
        SpinWorkers.Shared.Run(new RowProjection(x, rows, k, targets), threads);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunPart(int part, int parts)
    {
        var from = (int)((long)_total * part / parts);
        var to = (int)((long)_total * (part + 1) / parts);
        var start = 0;
        foreach (var t in _targets)
        {
            var lo = Math.Max(from, start) - start;
            var hi = Math.Min(to, start + t.N) - start;
            for (var o = lo; o < hi; o++) Output(t, o);
            start += t.N;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    void Output(in ProjectionTarget t, int o)
    {
        var w = new ReadOnlySpan<float>(t.W + (long)o * _k, _k);
        var w2 = t.W2 is null ? default : new ReadOnlySpan<float>(t.W2 + (long)o * _k, _k);
        for (var r = 0; r < _rows; r++)
        {
            var x = new ReadOnlySpan<float>(_x + (long)r * _k, _k);
            var y = TensorPrimitives.Dot(w, x);
            if (t.Bias is not null) y += t.Bias[o];
            if (t.W2 is not null) y = y / (1f + MathF.Exp(-y)) * TensorPrimitives.Dot(w2, x);
            var at = (long)r * t.Stride + o;
            if (t.Residual is not null) y = t.Residual[at] + y;
            t.Y[at] = y;
        }
    }
}
