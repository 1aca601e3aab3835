// Per-sequence KV cache for many sequences at once: one buffer per layer, [slots, n_kv_heads, capacity, head_dim].
// A sequence owns a slot; a batch over a contiguous run of slots reads the cache as a view, never a copy.
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>Keys/values of each sequence's own tokens (not its prefix), grown on demand.</summary>
public sealed class KvCache : IDisposable
{
    readonly int _layers, _kvHeads, _headDim;
    readonly ScalarType _dtype;
    readonly Device _device;
    Tensor[] _k, _v;
    int[] _lengths;
    bool[] _used;

    /// <summary>Slots allocated in the buffers.</summary>
    public int SlotCapacity { get; private set; }

    /// <summary>Tokens per slot allocated in the buffers.</summary>
    public int LengthCapacity { get; private set; }

    /// <summary>Creates an empty cache.</summary>
    public KvCache(int layers, int kvHeads, int headDim, ScalarType dtype, Device device, int slots = 1, int length = 64)
    {
        (_layers, _kvHeads, _headDim, _dtype, _device) = (layers, kvHeads, headDim, dtype, device);
        (_k, _v, _lengths, _used) = Empty(slots, length);
    }

    /// <summary>Fresh, all-free buffers of the given size (sets the capacities).</summary>
    (Tensor[] K, Tensor[] V, int[] Lengths, bool[] Used) Empty(int slots, int length)
    {
        SlotCapacity = Math.Max(1, slots);
        LengthCapacity = Math.Max(16, length);
        return (Alloc(SlotCapacity, LengthCapacity), Alloc(SlotCapacity, LengthCapacity), new int[SlotCapacity], new bool[SlotCapacity]);
    }

    Tensor[] Alloc(int slots, int length)
    {
        var result = new Tensor[_layers];
        for (var i = 0; i < _layers; i++)
            result[i] = zeros([slots, _kvHeads, length, _headDim], _dtype, _device).DetachFromDisposeScope();
        return result;
    }

    /// <summary>Bytes held by the cache buffers.</summary>
    public long Bytes => 2L * _layers * SlotCapacity * _kvHeads * LengthCapacity * _headDim * _k[0].ElementSize;

    /// <summary>Tokens currently cached in a slot.</summary>
    public int LengthOf(int slot) => _lengths[slot];

    /// <summary>Takes the lowest free slot, growing the buffers if all are used.</summary>
    public int Allocate()
    {
        for (var s = 0; s < SlotCapacity; s++)
        {
            if (!_used[s])
            {
                _used[s] = true;
                _lengths[s] = 0;
                return s;
            }
        }
        var slot = SlotCapacity;
        Grow(SlotCapacity * 2, LengthCapacity);
        _used[slot] = true;
        _lengths[slot] = 0;
        return slot;
    }

    /// <summary>Frees a slot.</summary>
    public void Free(int slot)
    {
        _used[slot] = false;
        _lengths[slot] = 0;
    }

    /// <summary>Copies slot `from` into free slot `to` (compaction so active slots stay contiguous).</summary>
    public void Move(int from, int to)
    {
        if (!_used[from] || _used[to]) throw new InvalidOperationException($"Cannot move KV slot {from} to {to}.");
        var len = _lengths[from];
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            for (var l = 0; l < _layers; l++)
            {
                _k[l][to].narrow(1, 0, len).copy_(_k[l][from].narrow(1, 0, len));
                _v[l][to].narrow(1, 0, len).copy_(_v[l][from].narrow(1, 0, len));
            }
        }
        _used[to] = true;
        _lengths[to] = len;
        Free(from);
    }

    /// <summary>Returns the buffers to the given size; only while no slot is in use (e.g. an idle engine after a long prompt).</summary>
    public void Shrink(int slots, int length)
    {
        if (_used.Any(u => u)) throw new InvalidOperationException("Cannot shrink a KV cache while slots are in use.");
        if (slots >= SlotCapacity && length >= LengthCapacity) return;
        foreach (var t in _k.Concat(_v)) t.Dispose();
        (_k, _v, _lengths, _used) = Empty(slots, length);
    }

    /// <summary>Drops the last tokens of a slot (they will be overwritten).</summary>
    public void Truncate(int slot, int length) => _lengths[slot] = Math.Min(_lengths[slot], length);

    /// <summary>Makes room for `needed` tokens in every slot.</summary>
    public void Reserve(int needed)
    {
        if (needed <= LengthCapacity) return;
        var cap = LengthCapacity;
        while (cap < needed) cap *= 2;
        Grow(SlotCapacity, cap);
    }

    void Grow(int slots, int length)
    {
        var k = Alloc(slots, length);
        var v = Alloc(slots, length);
        using (no_grad())
        {
            for (var l = 0; l < _layers; l++)
            {
                k[l].narrow(0, 0, SlotCapacity).narrow(2, 0, LengthCapacity).copy_(_k[l]);
                v[l].narrow(0, 0, SlotCapacity).narrow(2, 0, LengthCapacity).copy_(_v[l]);
                _k[l].Dispose();
                _v[l].Dispose();
            }
        }
        Array.Resize(ref _lengths, slots);
        Array.Resize(ref _used, slots);
        (_k, _v, SlotCapacity, LengthCapacity) = (k, v, slots, length);
    }

    /// <summary>Writes new keys/values [B, n_kv, T, D] for the given slots at their current lengths (layer-wise).</summary>
    internal void Write(int layer, int[] slots, Tensor k, Tensor v, Tensor? slotIndex, Tensor? posIndex)
    {
        var t = (int)k.shape[2];
        if (t == 1 && slotIndex is not null && posIndex is not null)
        {
            // One new token per sequence: a single scatter into [slot, :, position, :].
            var idx = new TensorIndex[] { TensorIndex.Tensor(slotIndex), TensorIndex.Colon, TensorIndex.Tensor(posIndex) };
            _k[layer].index_put_(k.select(2, 0), idx);
            _v[layer].index_put_(v.select(2, 0), idx);
            return;
        }
        for (var b = 0; b < slots.Length; b++)
        {
            var start = _lengths[slots[b]];
            _k[layer][slots[b]].narrow(1, start, t).copy_(k[b]);
            _v[layer][slots[b]].narrow(1, start, t).copy_(v[b]);
        }
    }

    /// <summary>The keys/values of the slots as [B, n_kv, length, D] (a view when slots are a contiguous run).</summary>
    internal (Tensor K, Tensor V) Read(int layer, int[] slots, int length)
    {
        if (IsRun(slots))
            return (_k[layer].narrow(0, slots[0], slots.Length).narrow(2, 0, length),
                    _v[layer].narrow(0, slots[0], slots.Length).narrow(2, 0, length));
        using var idx = tensor(slots.Select(s => (long)s).ToArray(), device: _device);
        return (_k[layer].index_select(0, idx).narrow(2, 0, length), _v[layer].index_select(0, idx).narrow(2, 0, length));
    }

    static bool IsRun(int[] slots)
    {
        for (var i = 1; i < slots.Length; i++) if (slots[i] != slots[0] + i) return false;
        return true;
    }

    /// <summary>Records that `count` tokens were appended to each slot.</summary>
    internal void Advance(int[] slots, int[] counts)
    {
        for (var b = 0; b < slots.Length; b++) _lengths[slots[b]] += counts[b];
    }

    /// <summary>Copies the first `length` cached tokens of a slot out as a prefix (e.g. to make a cartridge).</summary>
    public KvPrefix ToPrefix(int slot, int length)
    {
        if (length > _lengths[slot]) throw new ArgumentOutOfRangeException(nameof(length), $"Slot {slot} holds only {_lengths[slot]} tokens.");
        var keys = new Tensor[_layers];
        var values = new Tensor[_layers];
        for (var l = 0; l < _layers; l++)
        {
            using var scope = NewDisposeScope();
            keys[l] = _k[l][slot].narrow(1, 0, length).clone().DetachFromDisposeScope();
            values[l] = _v[l][slot].narrow(1, 0, length).clone().DetachFromDisposeScope();
        }
        return new KvPrefix(keys, values);
    }

    /// <summary>Used slots and their lengths, for invariant checks.</summary>
    public IEnumerable<int> UsedSlots => Enumerable.Range(0, SlotCapacity).Where(s => _used[s]);

    /// <summary>Throws if the bookkeeping is inconsistent (tests call this after every operation).</summary>
    public void CheckInvariants()
    {
        for (var s = 0; s < SlotCapacity; s++)
        {
            if (_lengths[s] < 0 || _lengths[s] > LengthCapacity) throw new InvalidOperationException($"Slot {s} length {_lengths[s]} outside 0..{LengthCapacity}.");
            if (!_used[s] && _lengths[s] != 0) throw new InvalidOperationException($"Free slot {s} has length {_lengths[s]}.");
        }
        foreach (var t in _k.Concat(_v))
        {
            if (t.shape[0] != SlotCapacity || t.shape[2] != LengthCapacity) throw new InvalidOperationException("Buffer shape differs from the recorded capacity.");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _k) t.Dispose();
        foreach (var t in _v) t.Dispose();
    }
}
