// Paged KV cache for many sequences at once (vLLM's layout): per layer one pool of fixed-size blocks
// [blocks, n_kv_heads, block_size, head_dim]; each sequence (a slot) owns a block table. A finished sequence gives its
// blocks back to the free list without copying anything, and a long sequence takes more blocks instead of raising
// every slot's capacity. A pass gathers each sequence's blocks into [B, n_kv, length, D] per layer: one copy of the
// keys it attends to, which libtorch's kernels need contiguous anyway.
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>Keys/values of each sequence's own tokens (not its prefix), in blocks taken from a shared pool.</summary>
public sealed class KvCache : IDisposable
{
    /// <summary>Tokens per block unless the constructor says otherwise.</summary>
    public const int DefaultBlockSize = 16;

    readonly int _layers, _kvHeads, _headDim, _initialBlocks;
    readonly ScalarType _dtype;
    readonly Device _device;
    Tensor[] _k, _v;
    readonly Stack<int> _free = new();
    readonly List<List<int>?> _tables = [];
    readonly List<int> _lengths = [];

    /// <summary>Creates a pool with room for <paramref name="slots"/> sequences of <paramref name="length"/> tokens.</summary>
    /// <param name="maxBlocks">Most blocks the pool may grow to; 0 = no limit.</param>
    public KvCache(int layers, int kvHeads, int headDim, ScalarType dtype, Device device, int slots = 1, int length = 64,
        int blockSize = DefaultBlockSize, int maxBlocks = 0)
    {
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), "A block holds at least one token.");
        (_layers, _kvHeads, _headDim, _dtype, _device, BlockSize, MaxBlocks) = (layers, kvHeads, headDim, dtype, device, blockSize, maxBlocks);
        _initialBlocks = Math.Max(1, BlocksFor(Math.Max(1, slots) * Math.Max(1, length)));
        if (MaxBlocks > 0) _initialBlocks = Math.Min(_initialBlocks, MaxBlocks);
        (_k, _v) = (Alloc(_initialBlocks), Alloc(_initialBlocks));
        for (var b = _initialBlocks - 1; b >= 0; b--) _free.Push(b);
    }

    /// <summary>Tokens per block.</summary>
    public int BlockSize { get; }

    /// <summary>Most blocks the pool may hold (0 = grows without limit).</summary>
    public int MaxBlocks { get; }

    /// <summary>Blocks in the pool now.</summary>
    public int TotalBlocks => (int)_k[0].shape[0];

    /// <summary>Blocks no sequence holds.</summary>
    public int FreeBlocks => _free.Count;

    /// <summary>Blocks a sequence could still get: the free ones plus what the pool may grow by.</summary>
    public int AvailableBlocks => MaxBlocks > 0 ? _free.Count + (MaxBlocks - TotalBlocks) : int.MaxValue;

    /// <summary>Blocks that hold <paramref name="tokens"/> tokens.</summary>
    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    /// <summary>Blocks a slot holds.</summary>
    public int BlocksOf(int slot) => Table(slot).Count;

    Tensor[] Alloc(int blocks)
    {
        var result = new Tensor[_layers];
        for (var i = 0; i < _layers; i++)
            result[i] = zeros([blocks, _kvHeads, BlockSize, _headDim], _dtype, _device).DetachFromDisposeScope();
        return result;
    }

    /// <summary>Bytes held by the pools.</summary>
    public long Bytes => 2L * _layers * TotalBlocks * _kvHeads * BlockSize * _headDim * _k[0].ElementSize;

    /// <summary>Bytes one block of <paramref name="blockSize"/> tokens takes for a model, over all layers, keys and values.</summary>
    public static long BlockBytes(Config.ModelConfig config, ScalarType dtype, int blockSize = DefaultBlockSize) =>
        2L * config.NumHiddenLayers * config.NumKeyValueHeads * blockSize * config.HeadDim * dtype switch
        {
            ScalarType.Float64 or ScalarType.Int64 => 8,
            ScalarType.Float16 or ScalarType.BFloat16 => 2,
            _ => 4,
        };

    List<int> Table(int slot) =>
        slot >= 0 && slot < _tables.Count && _tables[slot] is { } t ? t : throw new InvalidOperationException($"KV slot {slot} is not allocated.");

    /// <summary>Tokens currently cached in a slot.</summary>
    public int LengthOf(int slot)
    {
        _ = Table(slot);
        return _lengths[slot];
    }

    /// <summary>Takes the lowest free slot (no memory is taken until tokens are written).</summary>
    public int Allocate()
    {
        var slot = _tables.IndexOf(null);
        if (slot < 0)
        {
            slot = _tables.Count;
            _tables.Add(null);
            _lengths.Add(0);
        }
        _tables[slot] = [];
        _lengths[slot] = 0;
        return slot;
    }

    /// <summary>Frees a slot: its blocks go back to the pool, nothing is copied.</summary>
    public void Free(int slot)
    {
        foreach (var b in Table(slot)) _free.Push(b);
        _tables[slot] = null;
        _lengths[slot] = 0;
    }

    /// <summary>Gives the pool back its initial size; only while no slot is in use (an idle engine after a long prompt).</summary>
    public void Shrink()
    {
        if (UsedSlots.Any()) throw new InvalidOperationException("Cannot shrink a KV cache while slots are in use.");
        if (TotalBlocks <= _initialBlocks) return;
        foreach (var t in _k.Concat(_v)) t.Dispose();
        (_k, _v) = (Alloc(_initialBlocks), Alloc(_initialBlocks));
        _free.Clear();
        for (var b = _initialBlocks - 1; b >= 0; b--) _free.Push(b);
    }

    /// <summary>Drops the last tokens of a slot (they will be overwritten); whole blocks beyond go back to the pool.</summary>
    public void Truncate(int slot, int length)
    {
        var table = Table(slot);
        _lengths[slot] = Math.Min(_lengths[slot], Math.Max(0, length));
        while (table.Count > BlocksFor(_lengths[slot]))
        {
            _free.Push(table[^1]);
            table.RemoveAt(table.Count - 1);
        }
    }

    /// <summary>Takes blocks so that the slot holds room for <paramref name="tokens"/> tokens; grows the pool if allowed.</summary>
    public void Reserve(int slot, int tokens)
    {
        var table = Table(slot);
        var needed = BlocksFor(tokens) - table.Count;
        if (needed <= 0) return;
        if (needed > _free.Count) Grow(needed - _free.Count);
        for (var i = 0; i < needed; i++) table.Add(_free.Pop());
    }

    /// <summary>Adds at least <paramref name="blocks"/> blocks to the pool (doubling it), copying the pool once.</summary>
    void Grow(int blocks)
    {
        var total = TotalBlocks;
        var target = Math.Max(total * 2, total + blocks);
        if (MaxBlocks > 0) target = Math.Min(target, MaxBlocks);
        if (target - total < blocks)
            throw new KvCacheFullException($"The KV cache needs {blocks} more blocks of {BlockSize} tokens but holds at most {MaxBlocks} ({_free.Count} free).");
        var k = Alloc(target);
        var v = Alloc(target);
        using (no_grad())
        {
            for (var l = 0; l < _layers; l++)
            {
                k[l].narrow(0, 0, total).copy_(_k[l]);
                v[l].narrow(0, 0, total).copy_(_v[l]);
                _k[l].Dispose();
                _v[l].Dispose();
            }
        }
        (_k, _v) = (k, v);
        for (var b = target - 1; b >= total; b--) _free.Push(b);
    }

    /// <summary>Where one pass writes and what it reads: flat (block, offset) per new token and each sequence's block table.</summary>
    internal sealed record PassPlan(Tensor WriteBlocks, Tensor WriteOffsets, Tensor Tables, int Length) : IDisposable
    {
        public void Dispose()
        {
            WriteBlocks.Dispose();
            WriteOffsets.Dispose();
            Tables.Dispose();
        }
    }

    /// <summary>
    /// Reserves room for <paramref name="tokens"/> more tokens in each slot and plans the pass: token i of sequence b is
    /// written at position length_b + i, and every sequence reads <paramref name="readLength"/> keys (its own beyond its
    /// length are masked by the caller).
    /// </summary>
    internal PassPlan Plan(int[] slots, int tokens, int readLength)
    {
        foreach (var s in slots) Reserve(s, LengthOf(s) + tokens);
        var blocks = new long[slots.Length * tokens];
        var offsets = new long[slots.Length * tokens];
        for (var b = 0; b < slots.Length; b++)
        {
            var table = _tables[slots[b]]!;
            for (var i = 0; i < tokens; i++)
            {
                var position = _lengths[slots[b]] + i;
                blocks[b * tokens + i] = table[position / BlockSize];
                offsets[b * tokens + i] = position % BlockSize;
            }
        }
        var width = BlocksFor(readLength);
        var tables = new long[slots.Length * width];
        for (var b = 0; b < slots.Length; b++)
        {
            var table = _tables[slots[b]]!;
            // Positions past a sequence's own blocks are masked; any block id will do there.
            for (var j = 0; j < width; j++) tables[b * width + j] = j < table.Count ? table[j] : table.Count > 0 ? table[0] : 0;
        }
        return new PassPlan(tensor(blocks, device: _device), tensor(offsets, device: _device),
            tensor(tables, device: _device).view(slots.Length, width), readLength);
    }

    /// <summary>Writes new keys/values [B, n_kv, T, D] where the plan says (layer-wise).</summary>
    internal void Write(int layer, PassPlan plan, Tensor k, Tensor v)
    {
        var idx = new TensorIndex[] { TensorIndex.Tensor(plan.WriteBlocks), TensorIndex.Colon, TensorIndex.Tensor(plan.WriteOffsets) };
        // Advanced indices around a slice put their dimension first: the values are [B·T, n_kv, D].
        _k[layer].index_put_(k.permute(0, 2, 1, 3).reshape(-1, _kvHeads, _headDim), idx);
        _v[layer].index_put_(v.permute(0, 2, 1, 3).reshape(-1, _kvHeads, _headDim), idx);
    }

    /// <summary>The planned sequences' keys/values as [B, n_kv, length, D].</summary>
    internal (Tensor K, Tensor V) Read(int layer, PassPlan plan)
    {
        var b = plan.Tables.shape[0];
        var width = plan.Tables.shape[1];
        Tensor Gather(Tensor pool) => pool.index_select(0, plan.Tables.view(-1)).view(b, width, _kvHeads, BlockSize, _headDim)
            .permute(0, 2, 1, 3, 4).reshape(b, _kvHeads, width * BlockSize, _headDim).narrow(2, 0, plan.Length);
        return (Gather(_k[layer]), Gather(_v[layer]));
    }

    /// <summary>One layer's key pool [blocks, n_kv, block size, D] (replaced when the pool grows).</summary>
    internal Tensor KeyPool(int layer) => _k[layer];

    /// <summary>One layer's value pool, laid out as <see cref="KeyPool"/>.</summary>
    internal Tensor ValuePool(int layer) => _v[layer];

    /// <summary>The blocks of a slot in token order.</summary>
    internal int[] BlockTable(int slot) => [.. Table(slot)];

    /// <summary>Records that `count` tokens were appended to each slot.</summary>
    internal void Advance(int[] slots, int[] counts)
    {
        for (var b = 0; b < slots.Length; b++) _lengths[slots[b]] += counts[b];
    }

    /// <summary>Copies the first `length` cached tokens of a slot out as a prefix (e.g. to make a cartridge).</summary>
    public KvPrefix ToPrefix(int slot, int length)
    {
        if (length > LengthOf(slot)) throw new ArgumentOutOfRangeException(nameof(length), $"Slot {slot} holds only {_lengths[slot]} tokens.");
        var keys = new Tensor[_layers];
        var values = new Tensor[_layers];
        using var plan = Plan([slot], 0, length);
        for (var l = 0; l < _layers; l++)
        {
            using var scope = NewDisposeScope();
            var (k, v) = Read(l, plan);
            keys[l] = k[0].clone().DetachFromDisposeScope();
            values[l] = v[0].clone().DetachFromDisposeScope();
        }
        return new KvPrefix(keys, values);
    }

    /// <summary>Allocated slots.</summary>
    public IEnumerable<int> UsedSlots => Enumerable.Range(0, _tables.Count).Where(s => _tables[s] is not null);

    /// <summary>Throws if the bookkeeping is inconsistent (tests call this after every operation).</summary>
    public void CheckInvariants()
    {
        var owner = new int?[TotalBlocks];
        foreach (var b in _free)
        {
            if (owner[b] is not null) throw new InvalidOperationException($"Block {b} is free twice.");
            owner[b] = -1;
        }
        foreach (var s in UsedSlots)
        {
            var table = _tables[s]!;
            if (_lengths[s] < 0 || _lengths[s] > table.Count * BlockSize) throw new InvalidOperationException($"Slot {s} length {_lengths[s]} exceeds its {table.Count} blocks.");
            foreach (var b in table)
            {
                if (owner[b] is not null) throw new InvalidOperationException($"Block {b} is held by slot {s} and {(owner[b] == -1 ? "the free list" : $"slot {owner[b]}")}.");
                owner[b] = s;
            }
        }
        var lost = Array.IndexOf(owner, null);
        if (lost >= 0) throw new InvalidOperationException($"Block {lost} is neither free nor held.");
        if (MaxBlocks > 0 && TotalBlocks > MaxBlocks) throw new InvalidOperationException($"The pool holds {TotalBlocks} blocks, over its limit of {MaxBlocks}.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _k) t.Dispose();
        foreach (var t in _v) t.Dispose();
    }
}

/// <summary>The KV cache has no free block left and may not grow (its byte budget is reached).</summary>
public sealed class KvCacheFullException(string message) : InvalidOperationException(message);
