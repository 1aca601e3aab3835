using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>Inputs of one forward pass over B sequences of up to T new tokens each (right-padded).</summary>
public sealed class ForwardBatch
{
    /// <summary>Token ids [B, T] (int64) on the model's device.</summary>
    public required Tensor Tokens { get; init; }

    /// <summary>Real (unpadded) new tokens per sequence; all T when null.</summary>
    public int[]? ValidLengths { get; init; }

    /// <summary>Prefix segments per sequence (empty or null = no prefix).</summary>
    public IReadOnlyList<PrefixSegment>[]? Prefixes { get; init; }

    /// <summary>
    /// Composed prefixes share positions: a sequence's first token sits right after the longest of its prefixes
    /// instead of after all of them together. Each prefix's keys are rotated for 0..p-1, so every cartridge then sees
    /// the question at the distance it was trained with (a composition study; serving places it after all of them).
    /// </summary>
    public bool SharedPrefixPositions { get; init; }

    /// <summary>Cache holding each sequence's earlier tokens; new keys/values are appended to it.</summary>
    public KvCache? Cache { get; init; }

    /// <summary>Cache slot of each sequence (required with a cache).</summary>
    public int[]? Slots { get; init; }

    /// <summary>Runs the general tensor path even where the CPU decode step applies (tests hold the two to each other).</summary>
    internal bool TensorPath { get; init; }
}
