// TorchSharp turns the implicit alpha of tensor arithmetic (a + b is add(b, 1)) and every numeric operand into a Scalar
// that nothing references once its native handle has been read; the finalizer can then free it while libtorch still
// reads it. Under load this surfaced as "Expected false to be true ... toFloat at Scalar.h" in a decode step. The hot
// paths use these instead: scalars created once and held for the life of the process.
using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Model.Runtime;

/// <summary>Process-lifetime TorchSharp scalars and arithmetic that uses them instead of implicit conversions.</summary>
public static class HeldScalars
{
    static readonly ConcurrentDictionary<double, Scalar> Doubles = new();
    static readonly ConcurrentDictionary<long, Scalar> Longs = new();

    /// <summary>The integer 1 (the alpha of plain addition and subtraction).</summary>
    public static Scalar One { get; } = Of(1L);

    /// <summary>A held floating-point scalar; a few distinct values (norm epsilons, attention scales) are ever asked.</summary>
    public static Scalar Of(double value) => Doubles.GetOrAdd(value, v => v.ToScalar());

    /// <summary>A held integer scalar.</summary>
    public static Scalar Of(long value) => Longs.GetOrAdd(value, v => v.ToScalar());

    /// <summary>a + b with a held alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a + value with held scalars.</summary>
    public static Tensor Plus(this Tensor a, double value) => a.add(Of(value), One);

    /// <summary>a + value (an integer tensor stays integer) with held scalars.</summary>
    public static Tensor Plus(this Tensor a, long value) => a.add(Of(value), One);

    /// <summary>a × value with a held scalar.</summary>
    public static Tensor Times(this Tensor a, double value) => a.mul(Of(value));
}
