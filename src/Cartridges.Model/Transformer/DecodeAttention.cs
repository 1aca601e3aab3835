// Attention of one new token per sequence over [its prefix segments ++ its own cached keys], read in place: prefix
// keys from the cartridge's tensors, own keys block by block through the sequence's block table. The tensor path
// instead gathers every sequence's whole cache into a fresh [B, n_kv, length, D] tensor per layer and runs a dozen
// libtorch calls per layer; for one token per sequence both are the same softmax (one over all keys in the same order,
// float32, exp(s − max) / Σ), so the tests hold them to each other. Work is split over (sequence, kv head) pairs; the
// query heads of a group read each key and value row once between them. Head dot products and updates are written
// with fixed-width vectors (no alignment peeling), so they sum in one order wherever the rows sit.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Cartridges.Model.Runtime;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cartridges.Model.Transformer;

/// <summary>Keys and values of one prefix segment for one layer: [n_kv, P, D] float32 at K and V, rows Start.. of each head.</summary>
internal readonly unsafe struct SegmentRows(float* k, float* v, int p, int start, int length)
{
    public readonly float* K = k, V = v;
    public readonly int P = p, Start = start, Length = length;
}

/// <summary>One layer's attention for one query row per sequence, as a job on the spin workers.</summary>
internal sealed unsafe class DecodeAttention : IPartedJob
{
    readonly float* _q, _output, _keyPool, _valuePool;
    readonly int _rows, _queryHeads, _kvHeads, _headDim, _groups, _blockSize, _stride;
    readonly SegmentRows[][] _segments;
    readonly int[][] _tables;
    readonly int[] _ownKeys;
    readonly float _scale;

    /// <param name="q">Rotated queries [rows, query heads, D].</param>
    /// <param name="output">Attention output [rows, query heads, D].</param>
    /// <param name="segments">Per row, its prefix segments for this layer.</param>
    /// <param name="keyPool">The layer's key pool [blocks, n_kv, block size, D]; <paramref name="valuePool"/> alike.</param>
    /// <param name="tables">Per row, its block table.</param>
    /// <param name="ownKeys">Per row, how many own keys it attends to (its cached tokens and the new one).</param>
    public DecodeAttention(float* q, float* output, int rows, int queryHeads, int kvHeads, int headDim,
        SegmentRows[][] segments, float* keyPool, float* valuePool, int blockSize, int[][] tables, int[] ownKeys)
    {
        _q = q;
        _output = output;
        _keyPool = keyPool;
        _valuePool = valuePool;
        (_rows, _queryHeads, _kvHeads, _headDim, _blockSize) = (rows, queryHeads, kvHeads, headDim, blockSize);
        (_segments, _tables, _ownKeys) = (segments, tables, ownKeys);
        _groups = queryHeads / kvHeads;
        _scale = (float)(1.0 / Math.Sqrt(headDim));
        var mostKeys = Enumerable.Range(0, rows).Max(r => ownKeys[r] + segments[r].Sum(s => s.Length));
        _stride = (mostKeys + 15) / 16 * 16;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunPart(int part, int parts)
    {
        var units = _rows * _kvHeads;
        var from = units * part / parts;
        var to = units * (part + 1) / parts;
        if (from == to) return;
        using var scratch = new AlignedFloats(_groups * _stride, _groups * _headDim);
        for (var unit = from; unit < to; unit++) Group(unit / _kvHeads, unit % _kvHeads, scratch[0], scratch[1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Group(int row, int kvHead, float* scores, float* queries)
    {
        var d = _headDim;
        var g = _groups;
        var firstHead = kvHead * g;
        TensorPrimitives.Multiply(new ReadOnlySpan<float>(_q + ((long)row * _queryHeads + firstHead) * d, g * d), _scale,
            new Span<float>(queries, g * d));

        var n = 0;
        foreach (var seg in _segments[row])
        {
            var keys = seg.K + ((long)kvHead * seg.P + seg.Start) * d;
            for (var j = 0; j < seg.Length; j++, n++) Score(queries, keys + (long)j * d, scores, n);
        }
        var table = _tables[row];
        var own = _ownKeys[row];
        for (var j = 0; j < own; j++, n++) Score(queries, OwnRow(_keyPool, table, kvHead, j), scores, n);

        for (var i = 0; i < g; i++)
        {
            var s = new Span<float>(scores + (long)i * _stride, n);
            TensorPrimitives.Subtract(s, TensorPrimitives.Max(s), s);
            TensorPrimitives.Exp(s, s);
            TensorPrimitives.Divide(s, TensorPrimitives.Sum(s), s);
        }

        var output = _output + ((long)row * _queryHeads + firstHead) * d;
        new Span<float>(output, g * d).Clear();
        n = 0;
        foreach (var seg in _segments[row])
        {
            var values = seg.V + ((long)kvHead * seg.P + seg.Start) * d;
            for (var j = 0; j < seg.Length; j++, n++) Accumulate(values + (long)j * d, scores, n, output);
        }
        for (var j = 0; j < own; j++, n++) Accumulate(OwnRow(_valuePool, table, kvHead, j), scores, n, output);
    }

    /// <summary>scores[i][n] = q_i · key for each query head i of the group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Score(float* queries, float* key, float* scores, int n)
    {
        for (var i = 0; i < _groups; i++) scores[(long)i * _stride + n] = Dot(queries + i * _headDim, key, _headDim);
    }

    /// <summary>out_i += p_i[n] · value for each query head i of the group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Accumulate(float* value, float* scores, int n, float* output)
    {
        for (var i = 0; i < _groups; i++) AddScaled(output + i * _headDim, value, scores[(long)i * _stride + n], _headDim);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Dot(float* a, float* b, int d)
    {
        if (Vector512.IsHardwareAccelerated && d % 16 == 0)
        {
            var acc = Vector512<float>.Zero;
            for (var i = 0; i < d; i += 16) acc += Vector512.Load(a + i) * Vector512.Load(b + i);
            return Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && d % 8 == 0)
        {
            var acc = Vector256<float>.Zero;
            for (var i = 0; i < d; i += 8) acc += Vector256.Load(a + i) * Vector256.Load(b + i);
            return Vector256.Sum(acc);
        }
        var sum = 0f;
        for (var i = 0; i < d; i++) sum += a[i] * b[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddScaled(float* output, float* value, float p, int d)
    {
        if (Vector512.IsHardwareAccelerated && d % 16 == 0)
        {
            var scale = Vector512.Create(p);
            for (var i = 0; i < d; i += 16) (Vector512.Load(output + i) + Vector512.Load(value + i) * scale).Store(output + i);
            return;
        }
        if (Vector256.IsHardwareAccelerated && d % 8 == 0)
        {
            var scale = Vector256.Create(p);
            for (var i = 0; i < d; i += 8) (Vector256.Load(output + i) + Vector256.Load(value + i) * scale).Store(output + i);
            return;
        }
        for (var i = 0; i < d; i++) output[i] += value[i] * p;
    }

    /// <summary>Own key or value j of a sequence for one kv head: pool [blocks, n_kv, block size, D].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    float* OwnRow(float* pool, int[] table, int kvHead, int j) =>
        pool + (((long)table[j / _blockSize] * _kvHeads + kvHead) * _blockSize + j % _blockSize) * _headDim;
}
