// x·wᵀ for a handful of float32 rows on the CPU: the projections of a decode step.
// libtorch's CPU BLAS here is MKL, and its sgemv/sgemm for one to eight rows runs on one thread at 10-15 GB/s on these
// hosts (perf on a tiny-preset decode step: mkl_blas_def_xsgemv was 70% of the step; 8 rows of a 2816 x 1024 weight
// took 2.4 ms, longer than 16 rows). A decode step only streams its weights once, so this is the whole cost of
// batch-1 decoding. Here the output features are split across the intra-op threads and each output is one
// TensorPrimitives.Dot of a weight row with an input row: the weights stream at 2-4x MKL's rate, each weight row is
// read from memory once for all input rows, and every output element is the same dot product whatever the batch, so a
// sequence decodes to the same bits alone or batched. No served package does few-row products across threads.
using static TorchSharp.torch;

namespace Cartridges.Model.Runtime;

/// <summary>Multithreaded float32 x·wᵀ (+ b) for up to <see cref="MaxRows"/> rows of x on the CPU.</summary>
internal static class FewRowLinear
{
    /// <summary>Most rows this path takes; MKL's gemm is as fast from 16 rows on (measured on the small preset's shapes).</summary>
    public const int MaxRows = 8;

    /// <summary>Multiply-adds below which one thread beats waking others (a 256 x 256 projection takes a few microseconds).</summary>
    const long MinParallelWork = 1 << 17;

    /// <summary>Whether x [.., k] · w [n, k]ᵀ runs here: CPU float32, few rows, nothing that autograd must see.</summary>
    public static bool Applies(Tensor x, Tensor w, Tensor? bias)
    {
        if (x.device_type != TorchSharp.DeviceType.CPU || x.dtype != ScalarType.Float32 || w.dtype != ScalarType.Float32) return false;
        if (w.dim() != 2 || x.shape[^1] != w.shape[1] || bias is { } b && (b.dtype != ScalarType.Float32 || b.NumberOfElements != w.shape[0])) return false;
        var rows = x.NumberOfElements / Math.Max(1, x.shape[^1]);
        if (rows < 1 || rows > MaxRows) return false;
        if (is_grad_enabled() && (x.requires_grad || w.requires_grad || bias?.requires_grad == true)) return false;
        // TorchSharp's byte span of a tensor, through which the weights are read, stops at 2 GiB.
        return w.is_contiguous() && w.NumberOfElements * 4L <= int.MaxValue;
    }

    /// <summary>y [.., n] = x [.., k] · wᵀ (+ b); call only where <see cref="Applies"/> holds.</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? bias) =>
        Forward(x, w, bias, FewRowThreads.ProjectionThreads);

    /// <summary>As <see cref="Forward(Tensor, Tensor, Tensor?)"/> on at most <paramref name="maxThreads"/> threads.</summary>
    internal static unsafe Tensor Forward(Tensor x, Tensor w, Tensor? bias, int maxThreads)
    {
        var k = (int)w.shape[1];
        var n = (int)w.shape[0];
        var rows = (int)(x.NumberOfElements / k);
        using var input = x.contiguous();
        using var b = bias?.contiguous();
        var shape = x.shape.ToArray();
        shape[^1] = n;
        var output = empty(shape, ScalarType.Float32, x.device);
        fixed (byte* xb = input.bytes)
        fixed (byte* wb = w.bytes)
        fixed (byte* yb = output.bytes)
        fixed (byte* bb = b is null ? default : b.bytes)
        {
            var threads = (long)rows * n * k < MinParallelWork ? 1 : maxThreads;
            RowProjection.Run((float*)xb, rows, k, threads, new ProjectionTarget((float*)wb, (float*)bb, (float*)yb, n, n));
        }
        return output;
    }
}
