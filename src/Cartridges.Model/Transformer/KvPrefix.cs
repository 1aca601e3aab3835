// A prefix: per-layer keys/values of length p (keys already rotated for positions 0..p-1) that any
// number of sequences attend to by reference. This is how a cartridge is served (method §1, §5).
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>Per-layer keys and values [n_kv_heads, p, head_dim] shared by reference among sequences.</summary>
public sealed class KvPrefix : IDisposable
{
    /// <summary>Keys per layer, [n_kv_heads, p, head_dim], post-RoPE.</summary>
    public Tensor[] Keys { get; }

    /// <summary>Values per layer, [n_kv_heads, p, head_dim].</summary>
    public Tensor[] Values { get; }

    /// <summary>Length p in tokens.</summary>
    public int Length { get; }

    /// <summary>Wraps existing tensors (not copied; the prefix takes ownership unless `owns` is false).</summary>
    public KvPrefix(Tensor[] keys, Tensor[] values, bool owns = true)
    {
        if (keys.Length == 0 || keys.Length != values.Length)
            throw new ArgumentException("A prefix needs the same positive number of key and value layers.");
        Length = (int)keys[0].shape[1];
        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i].dim() != 3 || !keys[i].shape.SequenceEqual(values[i].shape) || keys[i].shape[1] != Length)
                throw new ArgumentException(
                    $"Prefix layer {i}: keys [{string.Join(", ", keys[i].shape)}] and values [{string.Join(", ", values[i].shape)}] must both be [n_kv_heads, {Length}, head_dim].");
        }
        Keys = keys;
        Values = values;
        _owns = owns;
    }

    readonly bool _owns;

    /// <summary>Bytes held by the key and value tensors.</summary>
    public long Bytes => Keys.Sum(k => k.NumberOfElements * k.ElementSize) + Values.Sum(v => v.NumberOfElements * v.ElementSize);

    /// <summary>Checks that the prefix fits a model's layer count and KV geometry.</summary>
    public void CheckCompatible(int layers, int kvHeads, int headDim)
    {
        if (Keys.Length != layers || Keys[0].shape[0] != kvHeads || Keys[0].shape[2] != headDim)
            throw new ArgumentException(
                $"Prefix has {Keys.Length} layers of [{string.Join(", ", Keys[0].shape)}]; the model needs {layers} layers of [{kvHeads}, p, {headDim}].");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_owns) return;
        foreach (var t in Keys) t.Dispose();
        foreach (var t in Values) t.Dispose();
    }
}

/// <summary>A view of a prefix from token `Start` on; composition drops later prefixes' sink this way.</summary>
public readonly record struct PrefixSegment(KvPrefix Prefix, int Start)
{
    /// <summary>Tokens this segment contributes.</summary>
    public int Length => Prefix.Length - Start;

    /// <summary>Composes prefixes in order: the first sink is kept, later sinks dropped, nothing re-rotated.</summary>
    public static PrefixSegment[] Compose(IReadOnlyList<KvPrefix> prefixes)
    {
        var segments = new PrefixSegment[prefixes.Count];
        for (var i = 0; i < prefixes.Count; i++)
        {
            var start = i == 0 ? 0 : 1;
            if (prefixes[i].Length <= start) throw new ArgumentException($"Prefix {i} is too short to compose (length {prefixes[i].Length}).");
            segments[i] = new PrefixSegment(prefixes[i], start);
        }
        return segments;
    }

    /// <summary>Total length of composed segments = the position of a sequence's first token.</summary>
    public static int TotalLength(IReadOnlyList<PrefixSegment> segments) => segments.Sum(s => s.Length);
}
