// A cartridge (method §1): per layer, keys and values [n_kv_heads, p, head_dim], keys post-RoPE for positions
// 0..p-1. The first `Frozen` tokens (the attention sink) never train — training the sink destabilises
// optimisation — the remaining p - Frozen are the trainable parameters.
using Cartridges.Model.Config;
using Cartridges.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Training.Cartridges;

/// <summary>Trainable KV cache: frozen sink tokens plus trainable tokens, per layer.</summary>
public sealed class Cartridge : IDisposable
{
    readonly Tensor[] _frozenKeys, _frozenValues, _keys, _values;

    /// <summary>Tokens p.</summary>
    public int Length { get; }

    /// <summary>Leading tokens that never train (1: the sink).</summary>
    public int Frozen { get; }

    /// <summary>Layer count.</summary>
    public int Layers => _keys.Length;

    /// <summary>Creates a cartridge from full per-layer keys/values [n_kv, p, D]; the first `frozen` tokens are frozen.</summary>
    public Cartridge(IReadOnlyList<Tensor> keys, IReadOnlyList<Tensor> values, int frozen = 1)
    {
        if (keys.Count == 0 || keys.Count != values.Count) throw new ArgumentException("A cartridge needs the same positive number of key and value layers.");
        Length = (int)keys[0].shape[1];
        if (frozen < 0 || frozen >= Length) throw new ArgumentException($"Frozen tokens ({frozen}) must be in 0..{Length - 1} for a cartridge of {Length} tokens.");
        Frozen = frozen;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor Part(Tensor t, int start, int len, bool train) =>
            t.narrow(1, start, len).detach().clone().requires_grad_(train).DetachFromDisposeScope();
        _frozenKeys = keys.Select(k => Part(k, 0, frozen, false)).ToArray();
        _frozenValues = values.Select(v => Part(v, 0, frozen, false)).ToArray();
        _keys = keys.Select(k => Part(k, frozen, Length - frozen, true)).ToArray();
        _values = values.Select(v => Part(v, frozen, Length - frozen, true)).ToArray();
    }

    /// <summary>The trainable tensors (keys then values, layer by layer); nothing else gets gradients.</summary>
    public IReadOnlyList<Tensor> Parameters => [.. _keys, .. _values];

    /// <summary>The frozen sink tensors (keys then values).</summary>
    public IReadOnlyList<Tensor> FrozenTensors => [.. _frozenKeys, .. _frozenValues];

    /// <summary>Bytes of keys and values in the cartridge's dtype.</summary>
    public long Bytes => Parameters.Concat(FrozenTensors).Sum(t => t.NumberOfElements * t.ElementSize);

    /// <summary>
    /// A prefix view for a forward pass: concatenates frozen and trainable parts (differentiable when grad is on).
    /// The tensors belong to the caller's dispose scope; build one per step.
    /// </summary>
    public KvPrefix AsPrefix() => new(
        _frozenKeys.Zip(_keys, (f, k) => cat([f, k], 1)).ToArray(),
        _frozenValues.Zip(_values, (f, v) => cat([f, v], 1)).ToArray(),
        owns: false);

    /// <summary>A detached copy to serve (the engine owns and frees it).</summary>
    public KvPrefix ToServingPrefix()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var p = AsPrefix();
        return new KvPrefix(p.Keys.Select(k => k.detach().clone().DetachFromDisposeScope()).ToArray(),
            p.Values.Select(v => v.detach().clone().DetachFromDisposeScope()).ToArray());
    }

    /// <summary>Checks the geometry against a model.</summary>
    public void CheckCompatible(ModelConfig config)
    {
        var k = _keys[0];
        if (Layers != config.NumHiddenLayers || k.shape[0] != config.NumKeyValueHeads || k.shape[2] != config.HeadDim)
            throw new ArgumentException(
                $"Cartridge has {Layers} layers of [{k.shape[0]}, p, {k.shape[2]}]; the model needs {config.NumHiddenLayers} layers of [{config.NumKeyValueHeads}, p, {config.HeadDim}].");
    }

    /// <summary>Copies values from another cartridge of the same shape (e.g. restoring a checkpoint).</summary>
    public void CopyFrom(Cartridge other)
    {
        if (other.Length != Length || other.Frozen != Frozen || other.Layers != Layers) throw new ArgumentException("Cartridge shapes differ.");
        using var _ = no_grad();
        foreach (var (dst, src) in Parameters.Zip(other.Parameters).Concat(FrozenTensors.Zip(other.FrozenTensors))) dst.copy_(src);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in Parameters.Concat(FrozenTensors)) t.Dispose();
    }
}
