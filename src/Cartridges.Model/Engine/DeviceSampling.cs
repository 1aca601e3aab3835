// Greedy, temperature, top-k and top-p choice for a batch of logit rows, computed where the logits are, so that
// one step copies only the chosen ids to the host (not a vocabulary-sized row per sampled sequence).
// The arithmetic is float64 and follows the definition exactly: sort descending (ties: lower id first), keep the
// k best, weights exp((z - max) / T), keep the shortest head whose normalised mass reaches top_p, then take the
// first token whose running weight exceeds u · kept mass, u being the sequence's own uniform draw.
using static TorchSharp.torch;
using Cartridges.Model.Runtime;

namespace Cartridges.Model.Engine;

/// <summary>Chooses next tokens on the device from [B, V] logits, one uniform per sampled row.</summary>
internal static class DeviceSampling
{
    /// <summary>Chosen token id per row: the arg-max where the temperature is 0, else a draw with <paramref name="uniforms"/>[i].</summary>
    public static long[] Choose(Tensor logits, IReadOnlyList<SamplingParams> settings, IReadOnlyList<double> uniforms)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var rows = logits.shape[0];
        var vocab = logits.shape[1];
        var chosen = logits.argmax(-1);
        var sampled = Enumerable.Range(0, (int)rows).Where(i => settings[i].Temperature > 0).ToArray();
        if (sampled.Length == 0) return chosen.cpu().data<long>().ToArray();

        var device = logits.device;
        var index = tensor(sampled.Select(i => (long)i).ToArray(), device: device);
        Tensor Column(Func<SamplingParams, double> value) =>
            tensor(sampled.Select(i => value(settings[i])).ToArray(), ScalarType.Float64, device).view(-1, 1);
        var keepK = sampled.Select(i => settings[i].TopK > 0 ? Math.Min(settings[i].TopK, vocab) : vocab).ToArray();
        var width = keepK.Max();

        var (sorted, order) = logits.index_select(0, index).to(ScalarType.Float64).sort(-1, descending: true, stable: true);
        sorted = sorted.narrow(1, 0, width);
        order = order.narrow(1, 0, width);
        var column = arange(width, dtype: ScalarType.Int64, device: device).view(1, -1);
        var inTopK = column.lt(tensor(keepK, device: device).view(-1, 1));
        var weights = ((sorted - sorted.narrow(1, 0, 1)) / Column(p => p.Temperature)).exp() * inTopK;

        // Nucleus: keep token j iff the normalised mass of the tokens before it is still below top_p.
        var topP = Column(p => p.TopP);
        var mass = (weights / weights.sum(-1, keepdim: true)).cumsum(-1);
        var before = cat([zeros(sampled.Length, 1, ScalarType.Float64, device), mass.narrow(1, 0, width - 1)], 1);
        var kept = inTopK & (before.lt(topP) | topP.ge(HeldScalars.Of(1.0)));
        weights *= kept;

        var running = weights.cumsum(-1);
        var target = tensor(sampled.Select(i => uniforms[i]).ToArray(), ScalarType.Float64, device).view(-1, 1) * running.narrow(1, width - 1, 1);
        var position = searchsorted(running, target, right: true).minimum(kept.sum(-1, keepdim: true).Plus(-1L));
        chosen.index_copy_(0, index, order.gather(1, position).view(-1));
        return chosen.cpu().data<long>().ToArray();
    }
}
