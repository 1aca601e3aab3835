// Scoring for training (method §3.4, §4): the teacher's top-k log-probabilities per position (fp32,
// untempered softmax) and a forward pass differentiable with respect to prefix tensors.
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Scoring;

/// <summary>Top-k ids and log-probabilities of one sequence: [T, k] each, row t predicting token t+1.</summary>
public sealed record TopKResult(int[][] Ids, float[][] LogProbs);

/// <summary>Computes top-k log-probabilities and prefix-differentiable logits for batches of sequences.</summary>
public static class SequenceScorer
{
    /// <summary>
    /// Logits [B, T, V] (float32) for right-padded sequences attending to `prefix` (shared by all, may be null).
    /// Gradients flow into prefix tensors that require grad; the model's weights never require grad.
    /// </summary>
    public static Tensor Logits(TransformerModel model, IReadOnlyList<IReadOnlyList<int>> sequences, IReadOnlyList<PrefixSegment>? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        return model.Logits(Hidden(model, sequences, prefix)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same forward pass, with logits left for the rows a loss selects (<see cref="LogitRows"/>): training reads a
    /// conversation's answer positions, not all B·T of them.
    /// </summary>
    public static LogitRows Rows(TransformerModel model, IReadOnlyList<IReadOnlyList<int>> sequences, IReadOnlyList<PrefixSegment>? prefix = null) =>
        LogitRows.OfHidden(model, Hidden(model, sequences, prefix));

    /// <summary>Final hidden states [B, T, D] of right-padded sequences attending to `prefix`.</summary>
    static Tensor Hidden(TransformerModel model, IReadOnlyList<IReadOnlyList<int>> sequences, IReadOnlyList<PrefixSegment>? prefix)
    {
        if (sequences.Count == 0 || sequences.Any(s => s.Count == 0)) throw new ArgumentException("Every sequence needs at least one token.");
        var t = sequences.Max(s => s.Count);
        var padded = new long[sequences.Count * t];
        for (var b = 0; b < sequences.Count; b++)
        {
            for (var i = 0; i < sequences[b].Count; i++) padded[b * t + i] = sequences[b][i];
        }
        using var scope = NewDisposeScope();
        var hidden = model.Forward(new ForwardBatch
        {
            Tokens = tensor(padded, device: model.Device).view(sequences.Count, t),
            ValidLengths = sequences.Select(s => s.Count).ToArray(),
            Prefixes = prefix is null ? null : Enumerable.Repeat(prefix, sequences.Count).ToArray(),
        });
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>Top-k (ids, log-probs) at every position of every sequence, untempered, in float32.</summary>
    public static TopKResult[] TopK(TransformerModel model, IReadOnlyList<IReadOnlyList<int>> sequences, int k,
        IReadOnlyList<PrefixSegment>? prefix = null)
    {
        if (k < 1 || k > model.Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(k), $"k must be in 1..{model.Config.VocabSize}.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var logprobs = Logits(model, sequences, prefix).log_softmax(-1);
        var (values, indices) = logprobs.topk(k, dim: -1, largest: true, sorted: true);
        var v = values.cpu().data<float>().ToArray();
        var ix = indices.cpu().data<long>().ToArray();
        var t = (int)logprobs.shape[1];
        var results = new TopKResult[sequences.Count];
        for (var b = 0; b < sequences.Count; b++)
        {
            var n = sequences[b].Count;
            var ids = new int[n][];
            var lps = new float[n][];
            for (var i = 0; i < n; i++)
            {
                var offset = (b * t + i) * k;
                ids[i] = new int[k];
                lps[i] = new float[k];
                for (var j = 0; j < k; j++)
                {
                    ids[i][j] = (int)ix[offset + j];
                    lps[i][j] = v[offset + j];
                }
            }
            results[b] = new TopKResult(ids, lps);
        }
        return results;
    }
}
