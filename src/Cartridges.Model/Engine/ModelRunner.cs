// The only engine code that touches tensors: prefill one sequence, decode one token for a batch.
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Engine;

/// <summary>Runs the model for the engine on the device thread; returns float32 logits rows as arrays.</summary>
internal sealed class ModelRunner(TransformerModel model, KvCache cache)
{
    /// <summary>Feeds a sequence's whole prompt; returns the logits of its last position.</summary>
    public float[] Prefill(int slot, IReadOnlyList<int> prompt, PrefixSegment[] segments)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = tensor(prompt.Select(t => (long)t).ToArray(), device: model.Device).view(1, -1);
        var hidden = model.Forward(new ForwardBatch
        {
            Tokens = tokens,
            Cache = cache,
            Slots = [slot],
            Prefixes = [segments],
        });
        var last = hidden.narrow(1, prompt.Count - 1, 1).reshape(1, -1);
        return model.Logits(last).cpu().data<float>().ToArray();
    }

    /// <summary>Feeds one token per sequence (slots in ascending order); returns one logits row each.</summary>
    public float[][] Decode(int[] slots, int[] lastTokens, PrefixSegment[][] segments)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = tensor(lastTokens.Select(t => (long)t).ToArray(), device: model.Device).view(-1, 1);
        var hidden = model.Forward(new ForwardBatch
        {
            Tokens = tokens,
            Cache = cache,
            Slots = slots,
            Prefixes = segments.Select(s => (IReadOnlyList<PrefixSegment>)s).ToArray(),
        });
        var logits = model.Logits(hidden.reshape(slots.Length, -1)).cpu();
        var flat = logits.data<float>().ToArray();
        var vocab = (int)logits.shape[1];
        var rows = new float[slots.Length][];
        for (var i = 0; i < rows.Length; i++) rows[i] = flat.AsSpan(i * vocab, vocab).ToArray();
        return rows;
    }
}
