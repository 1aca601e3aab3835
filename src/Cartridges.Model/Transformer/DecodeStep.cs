// One decode step (one new token for each of up to eight sequences) of a float32 model on the CPU, on raw memory.
// Such a step streams every weight once and does little else, so its time is the weights' bandwidth plus per-call
// overhead; the tensor path spends about 40 libtorch calls per layer (each 5-15 µs to dispatch, allocate and free),
// which on the small preset was a third of the step. Here a layer is four projection jobs (q/k/v together; o with
// the residual add; gate/up with SwiGLU; down with the residual add), an attention job reading the paged cache and the
// prefixes in place, and RMSNorm/RoPE on a few KB of rows, all in buffers rented once per step. The tensor path
// remains the definition: the tests hold this one to it (hidden states and the cache it writes), and it serves every
// other case (prompts, training, other dtypes and devices).
using Cartridges.Model.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>The CPU float32 decode step: one token per sequence through a KV cache, no autograd.</summary>
internal static unsafe class DecodeStep
{
    /// <summary>Whether this batch is such a step and everything it reads is contiguous float32 CPU memory.</summary>
    public static bool Applies(TransformerModel model, ForwardBatch batch)
    {
        if (batch.Cache is null || is_grad_enabled() || model.Device.type != DeviceType.CPU || model.DType != ScalarType.Float32) return false;
        var tokens = batch.Tokens;
        if (tokens.dim() != 2 || tokens.shape[1] != 1 || tokens.shape[0] > FewRowLinear.MaxRows || tokens.device_type != DeviceType.CPU || tokens.dtype != ScalarType.Int64) return false;
        if (!Readable(model.Embedding)) return false;
        foreach (var prefix in batch.Prefixes ?? [])
            foreach (var seg in prefix ?? [])
                if (!seg.Prefix.Keys.All(Readable) || !seg.Prefix.Values.All(Readable)) return false;
        return true;
    }

    /// <summary>Contiguous CPU float32 that one span can address (TorchSharp's byte span stops at 2 GiB).</summary>
    static bool Readable(Tensor t) =>
        t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous() && t.NumberOfElements * 4L <= int.MaxValue;

    /// <summary>The float32 data of a contiguous CPU tensor (its owner keeps it alive).</summary>
    static float* Floats(Tensor t)
    {
        fixed (byte* p = t.bytes) return (float*)p;
    }

    static float* Maybe(Tensor? t) => t is null ? null : Floats(t);

    /// <summary>Runs the step; returns final-normed hidden states [B, 1, hidden] and advances the cache by one token each.</summary>
    public static Tensor Run(TransformerModel model, ForwardBatch batch, int[] slots, int[] cached, long[] starts, int maxPosition)
    {
        var c = model.Config;
        var cache = batch.Cache!;
        var rows = slots.Length;
        var (hidden, hq, hkv, d, inner) = (c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize);
        var (qWidth, kvWidth) = (hq * d, hkv * d);
        var eps = (float)c.RmsNormEps;
        var ids = batch.Tokens.reshape(-1).contiguous().data<long>().ToArray();
        foreach (var id in ids)
            if (id < 0 || id >= c.VocabSize) throw new ArgumentException($"Token id {id} is outside the vocabulary (0..{c.VocabSize - 1}).");

        foreach (var slot in slots) cache.Reserve(slot, cache.LengthOf(slot) + 1);
        var tables = slots.Select(cache.BlockTable).ToArray();
        var ownKeys = cached.Select(n => n + 1).ToArray();
        var (cosTable, sinTable) = model.Rope.TablesThrough(maxPosition);
        var cos = Floats(cosTable);
        var sin = Floats(sinTable);
        var threads = FewRowThreads.ProjectionThreads;

        using var buffers = new AlignedFloats(rows * hidden, rows * hidden, rows * qWidth, rows * kvWidth, rows * kvWidth, rows * qWidth, rows * inner);
        var x = buffers[0];
        var h = buffers[1];
        var q = buffers[2];
        var k = buffers[3];
        var v = buffers[4];
        var attention = buffers[5];
        var mlp = buffers[6];
        var embed = Floats(model.Embedding);
        for (var r = 0; r < rows; r++)
            new ReadOnlySpan<float>(embed + ids[r] * hidden, hidden).CopyTo(new Span<float>(x + r * hidden, hidden));

        for (var l = 0; l < model.Layers.Length; l++)
        {
            var w = model.Layers[l];
            RowMath.RmsNorm(x, Floats(w.InputNorm), h, rows, hidden, eps);
            RowProjection.Run(h, rows, hidden, threads,
                new ProjectionTarget(Floats(w.Wq), Maybe(w.Bq), q, qWidth, qWidth),
                new ProjectionTarget(Floats(w.Wk), Maybe(w.Bk), k, kvWidth, kvWidth),
                new ProjectionTarget(Floats(w.Wv), Maybe(w.Bv), v, kvWidth, kvWidth));
            if (w.QNorm is not null) RowMath.RmsNorm(q, Floats(w.QNorm), q, rows * hq, d, eps);
            if (w.KNorm is not null) RowMath.RmsNorm(k, Floats(w.KNorm), k, rows * hkv, d, eps);
            for (var r = 0; r < rows; r++)
            {
                RowMath.Rope(q + r * qWidth, hq, d, cos + starts[r] * d, sin + starts[r] * d);
                RowMath.Rope(k + r * kvWidth, hkv, d, cos + starts[r] * d, sin + starts[r] * d);
            }
            var keyPool = Floats(cache.KeyPool(l));
            var valuePool = Floats(cache.ValuePool(l));
            for (var r = 0; r < rows; r++) Store(k + r * kvWidth, v + r * kvWidth, keyPool, valuePool, tables[r], cached[r], hkv, d, cache.BlockSize);

            var segments = SegmentsOf(batch, rows, l);
            SpinWorkers.Shared.Run(new DecodeAttention(q, attention, rows, hq, hkv, d, segments, keyPool, valuePool,
                cache.BlockSize, tables, ownKeys), threads);

            RowProjection.Run(attention, rows, qWidth, threads,
                new ProjectionTarget(Floats(w.Wo), Maybe(w.Bo), x, hidden, hidden, residual: x));
            RowMath.RmsNorm(x, Floats(w.PostNorm), h, rows, hidden, eps);
            RowProjection.Run(h, rows, hidden, threads, new ProjectionTarget(Floats(w.Gate), null, mlp, inner, inner, w2: Floats(w.Up)));
            RowProjection.Run(mlp, rows, inner, threads, new ProjectionTarget(Floats(w.Down), null, x, hidden, hidden, residual: x));
        }

        var output = empty([rows, 1, hidden], ScalarType.Float32);
        RowMath.RmsNorm(x, Floats(model.FinalNorm), Floats(output), rows, hidden, eps);
        cache.Advance(slots, Enumerable.Repeat(1, rows).ToArray());
        return output;
    }

    /// <summary>Writes one token's keys and values [n_kv, D] at own position <paramref name="position"/> of a sequence.</summary>
    static void Store(float* key, float* value, float* keyPool, float* valuePool, int[] table, int position, int kvHeads, int d, int blockSize)
    {
        var block = table[position / blockSize];
        var offset = position % blockSize;
        for (var head = 0; head < kvHeads; head++)
        {
            var at = (((long)block * kvHeads + head) * blockSize + offset) * d;
            new ReadOnlySpan<float>(key + head * d, d).CopyTo(new Span<float>(keyPool + at, d));
            new ReadOnlySpan<float>(value + head * d, d).CopyTo(new Span<float>(valuePool + at, d));
        }
    }

    static SegmentRows[][] SegmentsOf(ForwardBatch batch, int rows, int layer)
    {
        var result = new SegmentRows[rows][];
        for (var r = 0; r < rows; r++)
            result[r] = batch.Prefixes?[r] is { } segs
                ? [.. segs.Select(s => new SegmentRows(Floats(s.Prefix.Keys[layer]), Floats(s.Prefix.Values[layer]), s.Prefix.Length, s.Start, s.Length))]
                : [];
        return result;
    }
}
