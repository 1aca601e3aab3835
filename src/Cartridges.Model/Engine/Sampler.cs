// One sequence's sampling settings and its own seeded random stream, so that its choices depend only on its own
// logits and its own draws — never on which other sequences share the batch. The choice itself is made on the
// device (DeviceSampling); the sequence contributes one uniform draw per sampled token.
namespace Cartridges.Model.Engine;

/// <summary>Per-sequence sampling settings and deterministic uniform stream (splitmix64).</summary>
public sealed class Sampler
{
    ulong _state;

    /// <summary>Creates the sampler of one sequence.</summary>
    public Sampler(SamplingParams p)
    {
        Params = p;
        _state = p.Seed ^ 0x9E3779B97F4A7C15UL;
    }

    /// <summary>The sequence's settings.</summary>
    public SamplingParams Params { get; }

    /// <summary>True when the choice is the arg-max (temperature 0): no draw is made.</summary>
    public bool IsGreedy => Params.Temperature == 0;

    /// <summary>True when the whole row of logits is needed on the host, to report log-probabilities.</summary>
    public bool NeedsRow => Params.LogProbs is not null;

    /// <summary>The next uniform in [0, 1) of this sequence's stream; a generator that never changes across .NET versions.</summary>
    public double NextUniform()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
