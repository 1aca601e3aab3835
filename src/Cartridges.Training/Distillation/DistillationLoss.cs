// Context-distillation loss (method §4). Student = the model with the cartridge as its KV prefix and no corpus;
// teacher = the same model with the corpus chunk in context, stored as top-k log-probs per answer token.
using Cartridges.Model.Scoring;
using Cartridges.Training.Data;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Cross-entropy of the student against the teacher's stored sparse (top-k) distribution.</summary>
public static class DistillationLoss
{
    /// <summary>
    /// Sum of the loss over every loss token of the batch, and the number of loss tokens (divide to average).
    /// `logits` [B, T, V] are the student's logits for `examples` (right-padded, row b = example b).
    /// </summary>
    /// <remarks>
    /// For each loss token t (LossMask[t], predicted from position t-1) with teacher ids K_t and log-probs ℓ_t,k:
    ///     loss = − Σ_t Σ_{k ∈ K_t} exp(ℓ_t,k) · log_softmax(z_{t-1})[k]
    /// The sparse teacher distribution is not renormalised (Σ_k exp ℓ ≤ 1): the tail mass outside the top-k
    /// simply does not contribute, as in the method. log_softmax runs in fp32 over the full vocabulary.
    /// </remarks>
    public static (Tensor Sum, int Tokens) Compute(LogitRows logits, IReadOnlyList<TrainingExample> examples)
    {
        if (examples.Count == 0) throw new ArgumentException("The loss needs at least one example.");
        CheckShape(logits, examples.Count, examples.Max(e => e.Tokens.Length));
        var t = logits.Positions;
        var vocab = logits.Vocab;
        var n = examples.Sum(e => e.TopKIds.Length);
        var k = n == 0 ? 1 : examples.Where(e => e.TopKIds.Length > 0).Max(e => e.TopKIds.Max(r => r.Length));
        var rows = new long[n];
        // Rows shorter than k are padded with id 0 and log-prob −∞: exp(−∞) = 0, so padding adds nothing.
        var ids = new long[n * k];
        var teacher = new float[n * k];
        Array.Fill(teacher, float.NegativeInfinity);
        var row = 0;
        for (var b = 0; b < examples.Count; b++)
        {
            var e = examples[b];
            var marked = 0;
            for (var i = 1; i < e.Tokens.Length; i++)
            {
                if (!e.LossMask[i]) continue;
                rows[row] = b * t + i - 1;
                var topIds = e.TopKIds[marked];
                var topLps = e.TopKLogProbs[marked];
                for (var j = 0; j < topIds.Length; j++)
                {
                    if ((uint)topIds[j] >= vocab) throw new ArgumentException($"Example {b}: teacher id {topIds[j]} is outside the vocabulary of {vocab}.");
                    ids[row * k + j] = topIds[j];
                    teacher[row * k + j] = topLps[j];
                }
                marked++;
                row++;
            }
        }
        using var scope = NewDisposeScope();
        if (n == 0) return (zeros([], ScalarType.Float32, logits.Device).MoveToOuterDisposeScope(), 0);
        var studentLogProbs = SelectLogProbs(logits, rows).gather(1, tensor(ids, device: logits.Device).view(n, k)); // [n, k]
        var pTeacher = tensor(teacher, device: logits.Device).view(n, k).exp();                                    // [n, k]
        return ((-(pTeacher * studentLogProbs).sum()).MoveToOuterDisposeScope(), n);
    }

    /// <summary>log_softmax in fp32 of the logits rows [B·T] listed in `rows` → [rows, V]; only those rows are computed.</summary>
    internal static Tensor SelectLogProbs(LogitRows logits, long[] rows) => logits.Select(rows).log_softmax(-1);

    internal static void CheckShape(LogitRows logits, int sequences, int longest)
    {
        if (logits.Sequences != sequences)
            throw new ArgumentException($"Expected logits [{sequences}, T, V]; got {logits.Sequences} sequences.");
        if (logits.Positions < longest)
            throw new ArgumentException($"Logits cover {logits.Positions} positions but the longest sequence has {longest} tokens.");
    }
}
