// What the trainer minimises (method §4 and its next-token ablation): a fixed dataset of token sequences plus
// the loss of a micro-batch of them. The trainer owns the optimiser, batching and checkpoints; objectives own data.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Cartridges.Model.Scoring;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>A training dataset and its loss: context distillation or next-token prediction.</summary>
public abstract class TrainingObjective
{
    readonly Lazy<string> _fingerprint;

    /// <summary>Uses `fingerprint` as the dataset identity when given (e.g. a shard manifest hash), else hashes the contents.</summary>
    protected TrainingObjective(string? fingerprint) => _fingerprint = new(() => fingerprint ?? ComputeFingerprint());

    /// <summary>Short name stored in checkpoints ("distillation", "next-token").</summary>
    public abstract string Name { get; }

    /// <summary>Number of sequences in the dataset.</summary>
    public abstract int Count { get; }

    /// <summary>The student's input tokens of sequence `index`.</summary>
    public abstract IReadOnlyList<int> Tokens(int index);

    /// <summary>How many tokens of sequence `index` carry loss.</summary>
    public abstract int LossTokens(int index);

    /// <summary>Largest token or target id anywhere in the dataset (checked against the vocabulary).</summary>
    public abstract int MaxTokenId { get; }

    /// <summary>Loss sum and loss-token count of the sequences `indices`, given their student logits [B, T, V].</summary>
    public abstract (Tensor Sum, int Tokens) Loss(LogitRows logits, IReadOnlyList<int> indices);

    /// <summary>Identity of the dataset: a checkpoint made on other data is refused.</summary>
    public string Fingerprint => _fingerprint.Value;

    /// <summary>Feeds every byte that defines the dataset to the hash.</summary>
    protected abstract void HashContents(IncrementalHash hash);

    /// <summary>Appends an int array (length first, so concatenations cannot collide).</summary>
    protected static void Append<T>(IncrementalHash hash, ReadOnlySpan<T> values) where T : struct
    {
        hash.AppendData(BitConverter.GetBytes(values.Length));
        hash.AppendData(MemoryMarshal.AsBytes(values));
    }

    string ComputeFingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Name));
        HashContents(hash);
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
