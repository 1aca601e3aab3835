// Adam (Kingma & Ba) for the cartridge's trainable tensors, method §4: β1 0.9, β2 0.999, ε 1e-8, constant LR.
// Hand-written rather than TorchSharp's optim.Adam because its whole state is then three plain things (m, v, the
// step count) that a checkpoint writes and reads back bit-exactly; the library keeps per-parameter state behind
// its own serialiser, and bit-identical resume is a requirement.
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Adam with fp32 moment estimates; consumes and zeroes the parameters' accumulated gradients.</summary>
internal sealed class AdamOptimizer : IDisposable
{
    readonly IReadOnlyList<Tensor> _parameters;
    readonly double _lr, _beta1, _beta2, _eps;

    /// <summary>Update count t (the bias corrections depend on it).</summary>
    public int Step { get; private set; }

    /// <summary>First moments, one per parameter (fp32).</summary>
    public Tensor[] M { get; }

    /// <summary>Second moments, one per parameter (fp32).</summary>
    public Tensor[] V { get; }

    public AdamOptimizer(IReadOnlyList<Tensor> parameters, double lr, double beta1, double beta2, double eps)
    {
        _parameters = parameters;
        (_lr, _beta1, _beta2, _eps) = (lr, beta1, beta2, eps);
        M = parameters.Select(p => zeros(p.shape, ScalarType.Float32, p.device).DetachFromDisposeScope()).ToArray();
        V = parameters.Select(p => zeros(p.shape, ScalarType.Float32, p.device).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>One update from the accumulated gradients (a missing gradient counts as zero), then zeroes them.</summary>
    public void Update()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Step++;
        // Bias corrections in double on the host: identical on every run and device.
        var correction1 = 1 - Math.Pow(_beta1, Step);
        var correction2 = 1 - Math.Pow(_beta2, Step);
        // Scalars held and disposed here, not left to TorchSharp's implicit conversions, whose finalizer can free a
        // scalar while libtorch still reads it.
        using var beta1 = _beta1.ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var rootCorrection2 = Math.Sqrt(correction2).ToScalar();
        using var eps = _eps.ToScalar();
        using var step = (-_lr / correction1).ToScalar();
        for (var i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i];
            var g = p.grad is { } grad ? grad.to(ScalarType.Float32) : zeros_like(M[i]);
            M[i].mul_(beta1).add_(g, alpha: oneMinusBeta1);              // m = β1·m + (1-β1)·g
            V[i].mul_(beta2).addcmul_(g, g, value: oneMinusBeta2);       // v = β2·v + (1-β2)·g²
            var denom = V[i].sqrt().div_(rootCorrection2).add_(eps);      // √v̂ + ε
            var update = M[i].div(denom).mul_(step);                      // −lr · m̂ / (√v̂ + ε)
            // fp32 parameters take the update exactly; lower-precision cartridges round it once here.
            p.add_(update.to(p.dtype));
            p.grad?.zero_();
        }
    }

    /// <summary>Restores the state written by a checkpoint (copied into the existing tensors).</summary>
    public void Load(int step, IReadOnlyList<Tensor> m, IReadOnlyList<Tensor> v)
    {
        if (m.Count != M.Length || v.Count != V.Length) throw new InvalidDataException($"Optimizer state has {m.Count}/{v.Count} moments; expected {M.Length}.");
        using var _ = no_grad();
        for (var i = 0; i < M.Length; i++)
        {
            if (!m[i].shape.SequenceEqual(M[i].shape) || !v[i].shape.SequenceEqual(V[i].shape))
                throw new InvalidDataException($"Optimizer moment {i} is [{string.Join(", ", m[i].shape)}], expected [{string.Join(", ", M[i].shape)}].");
            M[i].copy_(m[i]);
            V[i].copy_(v[i]);
        }
        Step = step;
    }

    public void Dispose()
    {
        foreach (var t in M.Concat(V)) t.Dispose();
    }
}
