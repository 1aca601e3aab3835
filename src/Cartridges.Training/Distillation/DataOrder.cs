// Deterministic data order for the trainer (method §4: 1–2 epochs over the synthesized set): each epoch is a
// fresh permutation drawn from the trainer's own seeded generator, so a resumed run replays exactly the same
// sequence of examples. The generator is SplitMix64: one 64-bit state, trivially checkpointed.
namespace Cartridges.Training.Distillation;

/// <summary>Where the trainer is in the data: epoch, position in that epoch's order, and the generator state that drew the order.</summary>
internal sealed record DataCursor(int Epoch, int Position, long ShuffleSeed, ulong EpochRngState);

/// <summary>An endless stream of dataset indices, one seeded shuffle per epoch.</summary>
internal sealed class DataOrder
{
    readonly int _count;
    readonly long _seed;
    ulong _rng;
    int[] _order = [];
    int _position;
    int _epoch;
    ulong _epochRngState;

    public DataOrder(int count, long seed)
    {
        if (count <= 0) throw new ArgumentException("The dataset is empty.");
        (_count, _seed) = (count, seed);
        _rng = unchecked((ulong)seed);
        StartEpoch(0);
    }

    /// <summary>Continues from a checkpointed cursor (same dataset size and seed required).</summary>
    public DataOrder(int count, DataCursor cursor) : this(count, cursor.ShuffleSeed)
    {
        if (cursor.Position < 0 || cursor.Position > count || cursor.Epoch < 0)
            throw new InvalidDataException($"Data cursor (epoch {cursor.Epoch}, position {cursor.Position}) does not fit a dataset of {count}.");
        // Regenerating the epoch's permutation from its starting state also advances the generator exactly as the
        // interrupted run did, so later epochs match too.
        _rng = cursor.EpochRngState;
        StartEpoch(cursor.Epoch);
        _position = cursor.Position;
    }

    /// <summary>The current cursor (what a checkpoint stores).</summary>
    public DataCursor Cursor => new(_epoch, _position, _seed, _epochRngState);

    /// <summary>The next `n` indices, crossing into a new epoch (new permutation) when this one runs out.</summary>
    public int[] Next(int n)
    {
        var result = new int[n];
        for (var i = 0; i < n; i++)
        {
            if (_position == _count) StartEpoch(_epoch + 1);
            result[i] = _order[_position++];
        }
        return result;
    }

    void StartEpoch(int epoch)
    {
        _epoch = epoch;
        _epochRngState = _rng;
        _order = Enumerable.Range(0, _count).ToArray();
        for (var i = _count - 1; i > 0; i--) // Fisher–Yates; the modulo bias over 2^64 is negligible here.
        {
            var j = (int)(NextRandom() % (ulong)(i + 1));
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
        _position = 0;
    }

    ulong NextRandom()
    {
        unchecked
        {
            var z = _rng += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
