// The only engine code that touches tensors: prefill one chunk of a sequence, decode one token for a batch.
// Every row's next token is chosen on the device (DeviceSampling); only rows that report log-probabilities travel
// to managed memory whole.
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Engine;

/// <summary>Next-token choices of one model call, and the full logits of rows that report log-probabilities.</summary>
internal readonly record struct RowLogits(long[] Chosen, float[]?[] Rows);

/// <summary>How one row's token is chosen: its settings, its uniform draw (unused when greedy), whether its row is wanted.</summary>
internal readonly record struct RowChoice(SamplingParams Settings, double Uniform, bool NeedsRow);

/// <summary>Runs the model for the engine on the device thread.</summary>
internal sealed class ModelRunner(TransformerModel model, KvCache cache)
{
    /// <summary>
    /// Feeds the next <paramref name="count"/> prompt tokens of a sequence from <paramref name="start"/> (one prefill
    /// chunk); returns the choice data of the prompt's last position when this chunk ends the prompt, else null.
    /// </summary>
    public RowLogits? Prefill(int slot, IReadOnlyList<int> prompt, int start, int count, PrefixSegment[] segments, RowChoice choice)
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
        return Rows(model.Logits(last), [choice]);
    }

    /// <summary>Feeds one token per sequence (slots in ascending order); returns one row of choice data each.</summary>
    public RowLogits Decode(int[] slots, int[] lastTokens, PrefixSegment[][] segments, RowChoice[] choices)
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
        return Rows(model.Logits(hidden.reshape(slots.Length, -1)), choices);
    }

    static RowLogits Rows(Tensor logits, RowChoice[] choices)
    {
        var chosen = DeviceSampling.Choose(logits, choices.Select(c => c.Settings).ToArray(), choices.Select(c => c.Uniform).ToArray());
        var rows = new float[]?[choices.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            if (choices[i].NeedsRow) rows[i] = logits[i].cpu().data<float>().ToArray();
        }
        return new RowLogits(chosen, rows);
    }
}
