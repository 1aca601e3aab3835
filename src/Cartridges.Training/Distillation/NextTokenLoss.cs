// Next-token prediction on raw corpus text: the ablation of method §4 ("memorises but does not generalise").
// The student (cartridge as prefix) is trained to predict the corpus itself instead of the teacher's answers.
using Cartridges.Model.Scoring;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Plain cross-entropy of the student on the next token of raw token sequences.</summary>
public static class NextTokenLoss
{
    /// <summary>
    /// Sum of −log p_student(x_t | x_&lt;t, cartridge) over t = 1..n-1 of every sequence, and the number of
    /// predicted tokens. `logits` [B, T, V] are the student's logits for `sequences` (right-padded).
    /// </summary>
    /// <remarks>loss = − Σ_b Σ_{t=1}^{n_b-1} log_softmax(z_{b,t-1})[x_{b,t}] (fp32).</remarks>
    public static (Tensor Sum, int Tokens) Compute(LogitRows logits, IReadOnlyList<IReadOnlyList<int>> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("The loss needs at least one sequence.");
        DistillationLoss.CheckShape(logits, sequences.Count, sequences.Max(s => s.Count));
        var t = logits.Positions;
        var vocab = logits.Vocab;
        var n = sequences.Sum(s => Math.Max(0, s.Count - 1));
        var rows = new long[n];
        var targets = new long[n];
        var row = 0;
        for (var b = 0; b < sequences.Count; b++)
        {
            for (var i = 1; i < sequences[b].Count; i++)
            {
                if ((uint)sequences[b][i] >= vocab) throw new ArgumentException($"Sequence {b}: token {sequences[b][i]} is outside the vocabulary of {vocab}.");
                rows[row] = b * t + i - 1;
                targets[row++] = sequences[b][i];
            }
        }
        using var scope = NewDisposeScope();
        if (n == 0) return (zeros([], ScalarType.Float32, logits.Device).MoveToOuterDisposeScope(), 0);
        var logProbs = DistillationLoss.SelectLogProbs(logits, rows).gather(1, tensor(targets, device: logits.Device).view(n, 1)); // [n, 1]
        return ((-logProbs.sum()).MoveToOuterDisposeScope(), n);
    }
}
