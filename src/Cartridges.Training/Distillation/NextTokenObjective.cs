// The next-token-prediction ablation (method §4): the same cartridge trained on chunks of the tokenized corpus
// with plain cross-entropy, through the same optimiser, batching and checkpoints as distillation.
using System.Security.Cryptography;
using Cartridges.Model.Scoring;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Next-token prediction over raw token sequences (chunks of the corpus).</summary>
public sealed class NextTokenObjective : TrainingObjective
{
    readonly IReadOnlyList<int[]> _sequences;

    /// <summary>Trains on the given sequences (each needs at least 2 tokens: the first is context only).</summary>
    public NextTokenObjective(IReadOnlyList<int[]> sequences, string? fingerprint = null) : base(fingerprint)
    {
        if (sequences.Count == 0) throw new ArgumentException("The training dataset is empty: next-token prediction needs at least one sequence.");
        for (var i = 0; i < sequences.Count; i++)
        {
            if (sequences[i].Length < 2) throw new ArgumentException($"Sequence {i} has {sequences[i].Length} tokens; next-token prediction needs at least 2.");
            MaxTokenId = Math.Max(MaxTokenId, sequences[i].Max());
        }
        _sequences = sequences;
    }

    /// <summary>Cuts the tokenized corpus into consecutive chunks of `chunkTokens` (a last chunk of ≥ 2 tokens is kept).</summary>
    public static NextTokenObjective FromCorpus(IReadOnlyList<int> corpusTokens, int chunkTokens)
    {
        if (chunkTokens < 2) throw new ArgumentException($"Chunks need at least 2 tokens (got {chunkTokens}).");
        if (corpusTokens.Count < 2) throw new ArgumentException($"The corpus has {corpusTokens.Count} tokens; next-token prediction needs at least 2.");
        var chunks = new List<int[]>();
        for (var start = 0; start < corpusTokens.Count - 1; start += chunkTokens)
            chunks.Add(corpusTokens.Skip(start).Take(chunkTokens).ToArray());
        if (chunks[^1].Length < 2) chunks.RemoveAt(chunks.Count - 1);
        return new NextTokenObjective(chunks);
    }

    /// <inheritdoc />
    public override string Name => "next-token";

    /// <inheritdoc />
    public override int Count => _sequences.Count;

    /// <inheritdoc />
    public override int MaxTokenId { get; }

    /// <inheritdoc />
    public override IReadOnlyList<int> Tokens(int index) => _sequences[index];

    /// <inheritdoc />
    public override int LossTokens(int index) => _sequences[index].Length - 1;

    /// <inheritdoc />
    public override (Tensor Sum, int Tokens) Loss(LogitRows logits, IReadOnlyList<int> indices) =>
        NextTokenLoss.Compute(logits, indices.Select(i => (IReadOnlyList<int>)_sequences[i]).ToArray());

    /// <inheritdoc />
    protected override void HashContents(IncrementalHash hash)
    {
        foreach (var s in _sequences) Append<int>(hash, s);
    }
}
