// Rotary position embedding in the Hugging Face (rotate-half) layout, with Llama-3 frequency scaling.
using Cartridges.Model.Config;
using TorchSharp;
using static TorchSharp.torch;
using Cartridges.Model.Runtime;

namespace Cartridges.Model.Transformer;

/// <summary>Precomputed cos/sin tables; applies RoPE to [B, T, H, D] tensors at given positions.</summary>
internal sealed class RotaryEmbedding : IDisposable
{
    readonly float[] _invFreq;
    readonly ScalarType _dtype;
    readonly Device _device;
    Tensor _cos, _sin; // [capacity, head_dim]

    public RotaryEmbedding(ModelConfig config, ScalarType dtype, Device device)
    {
        _invFreq = InverseFrequencies(config);
        (_dtype, _device) = (dtype, device);
        (_cos, _sin) = Tables(Math.Max(256, Math.Min(config.MaxPositionEmbeddings, 4096)));
    }

    /// <summary>inv_freq_i = theta^(-2i/d), rescaled per the llama3 rope_scaling rule.</summary>
    internal static float[] InverseFrequencies(ModelConfig config)
    {
        var d = config.HeadDim;
        var inv = new double[d / 2];
        for (var i = 0; i < inv.Length; i++) inv[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / d);
        if (config.RopeScaling is { Type: "llama3" } rs)
        {
            // Long wavelengths are divided by `factor`, short ones kept, the band between interpolated.
            var lowWavelen = rs.OriginalMaxPositionEmbeddings / rs.LowFreqFactor;
            var highWavelen = rs.OriginalMaxPositionEmbeddings / rs.HighFreqFactor;
            for (var i = 0; i < inv.Length; i++)
            {
                var wavelen = 2 * Math.PI / inv[i];
                if (wavelen < highWavelen) continue;
                if (wavelen > lowWavelen)
                {
                    inv[i] /= rs.Factor;
                    continue;
                }
                var smooth = (rs.OriginalMaxPositionEmbeddings / wavelen - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor);
                inv[i] = (1 - smooth) * inv[i] / rs.Factor + smooth * inv[i];
            }
        }
        return inv.Select(x => (float)x).ToArray();
    }

    (Tensor Cos, Tensor Sin) Tables(int capacity)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Angles in float32, as the reference implementation computes them.
        var pos = arange(capacity, dtype: ScalarType.Float32).unsqueeze(1);
        var freqs = pos * tensor(_invFreq).unsqueeze(0);
        var emb = cat([freqs, freqs], 1);
        // Detached: the tables outlive whichever forward pass happened to grow them.
        return (emb.cos().to(_dtype, _device).DetachFromDisposeScope(), emb.sin().to(_dtype, _device).DetachFromDisposeScope());
    }

    void EnsureCapacity(int needed)
    {
        if (needed <= _cos.shape[0]) return;
        var cap = (int)_cos.shape[0];
        while (cap < needed) cap *= 2;
        _cos.Dispose();
        _sin.Dispose();
        (_cos, _sin) = Tables(cap);
    }

    /// <summary>Rotates x [B, T, H, D] whose token (b, t) sits at position positions[b, t].</summary>
    /// <summary>The cos and sin tables [capacity, head_dim], grown to hold positions 0..<paramref name="maxPosition"/>.</summary>
    internal (Tensor Cos, Tensor Sin) TablesThrough(int maxPosition)
    {
        EnsureCapacity(maxPosition + 1);
        return (_cos, _sin);
    }

    public Tensor Apply(Tensor x, Tensor positions, int maxPosition)
    {
        EnsureCapacity(maxPosition + 1);
        var b = x.shape[0];
        var t = x.shape[1];
        var flat = positions.reshape(-1);
        var cos = _cos.index_select(0, flat).view(b, t, 1, -1);
        var sin = _sin.index_select(0, flat).view(b, t, 1, -1);
        var half = x.shape[3] / 2;
        var rotated = cat([-x.narrow(3, half, half), x.narrow(3, 0, half)], 3);
        return (x * cos).Plus(rotated * sin);
    }

    public void Dispose()
    {
        _cos.Dispose();
        _sin.Dispose();
    }
}
