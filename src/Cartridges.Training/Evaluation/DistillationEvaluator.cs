// Evaluation (issue 3 §4): score a student — the model with some KV prefix (trained cartridge, its
// initialisation, first-p truncation, the whole corpus in context, or nothing) — on held-out synthetic
// conversations: the distillation loss against the stored teacher top-k and top-1 agreement with the teacher.
using Cartridges.Model.Scoring;
using Cartridges.Model.Transformer;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using static TorchSharp.torch;

namespace Cartridges.Training.Evaluation;

/// <summary>Scores students on held-out conversations. Call on the model's device thread.</summary>
public static class DistillationEvaluator
{
    /// <summary>Loss and top-1 agreement of the model with `prefix` (null = no prefix) over the examples.</summary>
    public static EvalScore Score(TransformerModel model, IReadOnlyList<TrainingExample> examples, IReadOnlyList<PrefixSegment>? prefix, int batchSize = 8)
    {
        if (examples.Count == 0) throw new ArgumentException("No held-out examples to evaluate on.");
        var prefixLength = prefix is null ? 0 : PrefixSegment.TotalLength(prefix);
        var longest = examples.Max(e => e.Tokens.Length);
        if (prefixLength + longest > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"Prefix ({prefixLength}) plus the longest example ({longest}) exceed the model's context of {model.Config.MaxPositionEmbeddings}.");
        double lossSum = 0;
        long agree = 0, tokens = 0;
        using var _ = no_grad();
        foreach (var batch in examples.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            // Only the answer rows go through the LM head (a held-out batch's full [B, T, V] would dwarf the model).
            var logits = SequenceScorer.Rows(model, batch.Select(e => (IReadOnlyList<int>)e.Tokens).ToArray(), prefix);
            var (sum, n) = DistillationLoss.Compute(logits, batch);
            lossSum += sum.item<float>();
            tokens += n;
            agree += Agreement(logits, batch);
        }
        return new EvalScore(tokens == 0 ? 0 : lossSum / tokens, tokens == 0 ? 0 : (double)agree / tokens, (int)tokens, examples.Count);
    }

    /// <summary>Loss tokens where the student's arg-max equals the teacher's most likely token.</summary>
    static long Agreement(LogitRows logits, IReadOnlyList<TrainingExample> batch)
    {
        var t = logits.Positions;
        var rows = new List<long>();
        var teacherTop = new List<long>();
        for (var b = 0; b < batch.Count; b++)
        {
            var marked = 0;
            for (var i = 1; i < batch[b].Tokens.Length; i++)
            {
                if (!batch[b].LossMask[i]) continue;
                rows.Add(b * t + i - 1);
                var lps = batch[b].TopKLogProbs[marked];
                var ids = batch[b].TopKIds[marked];
                var best = 0;
                for (var j = 1; j < lps.Length; j++) if (lps[j] > lps[best]) best = j;
                teacherTop.Add(ids[best]);
                marked++;
            }
        }
        if (rows.Count == 0) return 0;
        var studentTop = logits.Select(rows.ToArray()).argmax(-1).cpu().data<long>().ToArray();
        return studentTop.Zip(teacherTop).Count(p => p.First == p.Second);
    }

    /// <summary>
    /// Mean negative log-likelihood (nats/token) of reference answers given their questions, with the prefix:
    /// each item is (tokens, index of the first answer token) in the cartridge chat variant.
    /// </summary>
    public static double AnswerLogPerplexity(TransformerModel model, IReadOnlyList<(int[] Tokens, int AnswerStart)> items, IReadOnlyList<PrefixSegment>? prefix)
    {
        if (items.Count == 0) throw new ArgumentException("No reference answers to score.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double nll = 0;
        long count = 0;
        foreach (var (tokens, start) in items)
        {
            if (start < 1 || start >= tokens.Length) throw new ArgumentException($"Answer start {start} must be inside the sequence (1..{tokens.Length - 1}).");
            // The answer's rows only (one sequence: flat row = position).
            var logProbs = SequenceScorer.Rows(model, [tokens], prefix).Select([.. Enumerable.Range(start - 1, tokens.Length - start).Select(i => (long)i)]).log_softmax(-1);
            var targets = tensor(tokens[start..].Select(x => (long)x).ToArray(), device: logProbs.device).view(-1, 1);
            nll -= logProbs.gather(1, targets).sum().item<float>();
            count += tokens.Length - start;
        }
        return nll / count;
    }
}
