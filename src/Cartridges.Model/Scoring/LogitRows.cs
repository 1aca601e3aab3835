// Training losses read the logits of a few positions (a conversation's answer tokens) out of [B, T]. Building the
// whole [B, T, V] tensor costs B·T·V floats — gigabytes for a 128k vocabulary at a 4k-token micro-batch — and its
// backward as much again, so a loss asks for the rows it reads and only those go through the LM head.
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Scoring;

/// <summary>The logits of a right-padded batch, produced only for the rows (b·T + t) a loss selects.</summary>
public sealed class LogitRows
{
    readonly Tensor _source;
    readonly Func<Tensor, Tensor>? _head;

    LogitRows(Tensor source, Func<Tensor, Tensor>? head, long vocab)
    {
        _source = source;
        _head = head;
        Vocab = vocab;
    }

    /// <summary>Sequences in the batch.</summary>
    public long Sequences => _source.shape[0];

    /// <summary>Positions per sequence (the padded length).</summary>
    public long Positions => _source.shape[1];

    /// <summary>Vocabulary size (the width of a logits row).</summary>
    public long Vocab { get; }

    /// <summary>The device the rows are computed on.</summary>
    public Device Device => _source.device;

    /// <summary>Already computed logits [B, T, V].</summary>
    public static LogitRows OfLogits(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() != 3) throw new ArgumentException($"Expected logits [B, T, V]; got [{string.Join(", ", logits.shape)}].");
        return new LogitRows(logits, null, logits.shape[2]);
    }

    /// <summary>The model's final hidden states [B, T, D]; rows go through its LM head when selected.</summary>
    public static LogitRows OfHidden(TransformerModel model, Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(hidden);
        return new LogitRows(hidden, model.Logits, model.Config.VocabSize);
    }

    /// <summary>Logits [B, T, V] seen as rows on demand.</summary>
    public static implicit operator LogitRows(Tensor logits) => OfLogits(logits);

    /// <summary>The float32 logits of the flat rows b·T + t listed in <paramref name="rows"/>: [rows, V].</summary>
    public Tensor Select(long[] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var flat = _source.reshape(-1, _source.shape[2]).index_select(0, tensor(rows, device: _source.device));
        return (_head is null ? flat : _head(flat)).to(ScalarType.Float32);
    }
}
