// Scratch memory for the CPU decode step. TensorPrimitives' vector loops start by aligning themselves to their inputs,
// so where a row sits changes the order its sums are taken in; every section here starts on a 64-byte line, so a row
// (of a width that is a multiple of 16 floats, as every model's hidden, head and MLP widths are) sums the same way in
// whichever buffer and at whichever batch position it is. One native allocation per use, freed on dispose.
using System.Runtime.InteropServices;

namespace Cartridges.Model.Runtime;

/// <summary>Several float32 sections in one 64-byte-aligned native allocation.</summary>
internal sealed unsafe class AlignedFloats : IDisposable
{
    const int Line = 16; // floats per 64 bytes

    readonly float* _base;
    readonly long[] _offsets;

    /// <summary>Allocates sections of the given lengths (uninitialised).</summary>
    public AlignedFloats(params int[] lengths)
    {
        _offsets = new long[lengths.Length];
        long total = 0;
        for (var i = 0; i < lengths.Length; i++)
        {
            _offsets[i] = total;
            total += (lengths[i] + Line - 1) / Line * Line;
        }
        _base = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, total) * sizeof(float), Line * sizeof(float));
    }

    /// <summary>Start of section <paramref name="section"/>.</summary>
    public float* this[int section] => _base + _offsets[section];

    /// <inheritdoc />
    public void Dispose() => NativeMemory.AlignedFree(_base);
}
