// The only engine code that touches tensors: prefill one chunk of a sequence, decode one token for a batch.
// Greedy rows are resolved with an on-device arg-max; only sampled rows travel to managed memory.
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Engine;

/// <summary>Next-token choices of one model call: arg-max per row, and full logits for rows that sample.</summary>
internal readonly record struct RowLogits(long[] ArgMax, float[]?[] Rows);

/// <summary>Runs the model for the engine on the device thread.</summary>
internal sealed class ModelRunner(TransformerModel model, KvCache cache)
{
    /// <summary>
    /// Feeds the next <paramref name="count"/> prompt tokens of a sequence from <paramref name="start"/> (one prefill
    /// chunk); returns the choice data of the prompt's last position when this chunk ends the prompt, else null.
    /// </summary>
    public RowLogits? Prefill(int slot, IReadOnlyList<int> prompt, int start, int count, PrefixSegment[] segments, bool needRow)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = tensor(prompt.Skip(start).Take(count).Select(t => (long)t).ToArray(), device: model.Device).view(1, -1);
        var hidden = model.Forward(new ForwardBatch
        {
            Tokens = tokens,
            Cache = cache,
            Slots = [slot],
            Prefixes = [segments],
        });
        if (start + count < prompt.Count) return null;
        var last = hidden.narrow(1, count - 1, 1).reshape(1, -1);
        return Rows(model.Logits(last), [needRow]);
    }

    /// <summary>Feeds one token per sequence (slots in ascending order); returns one row of choice data each.</summary>
    public RowLogits Decode(int[] slots, int[] lastTokens, PrefixSegment[][] segments, bool[] needRows)
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
        return Rows(model.Logits(hidden.reshape(slots.Length, -1)), needRows);
    }

    static RowLogits Rows(Tensor logits, bool[] needRows)
    {
        var argmax = logits.argmax(-1).cpu().data<long>().ToArray();
        var rows = new float[]?[needRows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            if (needRows[i]) rows[i] = logits[i].cpu().data<float>().ToArray();
        }
        return new RowLogits(argmax, rows);
    }
}
