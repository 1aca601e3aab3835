// Context distillation (method §4) over synthesized conversations: student input from the user header on, loss on
// the answer tokens against the teacher's stored top-k distribution.
using System.Security.Cryptography;
using Cartridges.Model.Scoring;
using Cartridges.Training.Data;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Distillation of the teacher's top-k distributions over a set of training examples.</summary>
public sealed class DistillationObjective : TrainingObjective
{
    readonly IReadOnlyList<TrainingExample> _examples;
    readonly int[] _lossTokens;

    /// <summary>Validates every example; `fingerprint` may name the dataset (else its contents are hashed on demand).</summary>
    public DistillationObjective(IReadOnlyList<TrainingExample> examples, string? fingerprint = null) : base(fingerprint)
    {
        if (examples.Count == 0) throw new ArgumentException("The training dataset is empty: distillation needs at least one example.");
        _lossTokens = new int[examples.Count];
        for (var i = 0; i < examples.Count; i++)
        {
            examples[i].Validate($"training example {i}");
            _lossTokens[i] = examples[i].TopKIds.Length;
            MaxTokenId = Math.Max(MaxTokenId, examples[i].Tokens.Max());
            foreach (var row in examples[i].TopKIds) MaxTokenId = Math.Max(MaxTokenId, row.Length == 0 ? 0 : row.Max());
        }
        if (_lossTokens.Sum() == 0) throw new ArgumentException("The training dataset has no loss tokens: every loss mask is empty.");
        _examples = examples;
    }

    /// <inheritdoc />
    public override string Name => "distillation";

    /// <inheritdoc />
    public override int Count => _examples.Count;

    /// <inheritdoc />
    public override int MaxTokenId { get; }

    /// <inheritdoc />
    public override IReadOnlyList<int> Tokens(int index) => _examples[index].Tokens;

    /// <inheritdoc />
    public override int LossTokens(int index) => _lossTokens[index];

    /// <inheritdoc />
    public override (Tensor Sum, int Tokens) Loss(LogitRows logits, IReadOnlyList<int> indices) =>
        DistillationLoss.Compute(logits, indices.Select(i => _examples[i]).ToArray());

    /// <inheritdoc />
    protected override void HashContents(IncrementalHash hash)
    {
        foreach (var e in _examples)
        {
            Append<int>(hash, e.Tokens);
            Append<bool>(hash, e.LossMask);
            foreach (var row in e.TopKIds) Append<int>(hash, row);
            foreach (var row in e.TopKLogProbs) Append<float>(hash, row);
        }
    }
}
