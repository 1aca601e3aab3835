// AdamW (Loshchilov & Hutter) over plain tensors with fp32 moments. Written out, like the cartridge trainer's
// Adam, so its whole state is m, v and the step count, which a checkpoint stores and restores bit-exactly.
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>AdamW with decoupled weight decay on matrices only, global-norm clipping and a per-step learning rate.</summary>
public sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<Tensor> _parameters;
    const double Beta1 = 0.9, Beta2 = 0.98, Eps = 1e-8;

    /// <summary>Updates applied so far.</summary>
    public int Step { get; private set; }

    /// <summary>First moments.</summary>
    public Tensor[] M { get; }

    /// <summary>Second moments.</summary>
    public Tensor[] V { get; }

    /// <summary>Creates zeroed moments for the parameters.</summary>
    public AdamW(IReadOnlyList<Tensor> parameters)
    {
        _parameters = parameters;
        M = parameters.Select(p => zeros(p.shape, ScalarType.Float32, p.device).DetachFromDisposeScope()).ToArray();
        V = parameters.Select(p => zeros(p.shape, ScalarType.Float32, p.device).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Clips the accumulated gradients to <paramref name="clip"/> (global L2 norm), applies one update, zeroes the gradients; returns the norm before clipping.</summary>
    public double Update(double lr, double weightDecay, double clip)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Step++;
        var grads = _parameters.Select(p => p.grad ?? zeros_like(p)).ToList();
        var norm = Math.Sqrt(grads.Sum(g => g.square().sum().item<float>()));
        var scale = norm > clip ? clip / norm : 1.0;
        var c1 = 1 - Math.Pow(Beta1, Step);
        var c2 = 1 - Math.Pow(Beta2, Step);
        // Every scalar is created once, held and disposed here. TorchSharp's implicit conversions leave a Scalar to the
        // finalizer, which can free it while libtorch still reads it (seen as "INTERNAL ASSERT FAILED at Scalar.h" in
        // a long training loop).
        using var gradScale = scale.ToScalar();
        using var beta1 = Beta1.ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var decay = (1 - lr * weightDecay).ToScalar();
        using var rootC2 = Math.Sqrt(c2).ToScalar();
        using var eps = Eps.ToScalar();
        using var step = (-lr / c1).ToScalar();
        for (var i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i];
            var g = grads[i].mul(gradScale);
            M[i].mul_(beta1).add_(g, alpha: oneMinusBeta1);
            V[i].mul_(beta2).addcmul_(g, g, value: oneMinusBeta2);
            if (weightDecay > 0 && p.dim() > 1) p.mul_(decay);
            var denom = V[i].sqrt().div_(rootC2).add_(eps);
            p.add_(M[i].div(denom).mul_(step));
            p.grad?.zero_();
        }
        return norm;
    }

    /// <summary>Restores moments and step count from a checkpoint.</summary>
    public void Load(int step, IReadOnlyList<Tensor> m, IReadOnlyList<Tensor> v)
    {
        using var _ = no_grad();
        for (var i = 0; i < M.Length; i++)
        {
            M[i].copy_(m[i]);
            V[i].copy_(v[i]);
        }
        Step = step;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in M.Concat(V)) t.Dispose();
    }
}
