// Deterministic seeding for self-study (resumable, reproducible synthesis): every shard, batch and conversation
// gets its own seed derived from the base seed and its index, so any piece can be regenerated alone and comes
// out identical, whatever ran before it.
namespace Cartridges.Training.Synthesis;

/// <summary>Derives independent seeds and random streams from a base seed.</summary>
public static class SeedStreams
{
    /// <summary>A well-mixed seed for stream `index` of `seed` (splitmix64 finaliser; stable across .NET versions).</summary>
    public static ulong Derive(ulong seed, ulong index)
    {
        var z = seed + (index + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A System.Random seeded from `seed` (the seeded constructor's sequence is fixed by .NET for compatibility).</summary>
    public static Random Random(ulong seed) => new(unchecked((int)(seed ^ (seed >> 32))) & int.MaxValue);
}
