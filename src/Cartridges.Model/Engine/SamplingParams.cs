namespace Cartridges.Model.Engine;

/// <summary>How one sequence picks its tokens and when it stops. Temperature 0 = greedy.</summary>
public sealed record SamplingParams
{
    /// <summary>Softmax temperature; 0 picks the arg-max.</summary>
    public float Temperature { get; init; }

    /// <summary>Nucleus sampling mass in (0, 1]; 1 disables it.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens; 0 disables it.</summary>
    public int TopK { get; init; }

    /// <summary>Seed of this sequence's random stream (independent of every other sequence).</summary>
    public ulong Seed { get; init; }

    /// <summary>Most new tokens to generate.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Report each generated token's log-probability and this many alternatives (0–20); null = none.</summary>
    public int? LogProbs { get; init; }

    /// <summary>Token ids that end the sequence (the stop token is included in the output).</summary>
    public IReadOnlyCollection<int> StopTokens { get; init; } = [];

    /// <summary>Greedy decoding with the given limit and stop tokens.</summary>
    public static SamplingParams Greedy(int maxTokens, IReadOnlyCollection<int>? stop = null) =>
        new() { MaxTokens = maxTokens, StopTokens = stop ?? [] };

    /// <summary>Throws a clear error for out-of-range settings.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be >= 0 (got {Temperature}).");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top_p must be in (0, 1] (got {TopP}).");
        if (TopK < 0) throw new ArgumentException($"top_k must be >= 0 (got {TopK}).");
        if (LogProbs is < 0 or > TokenLogProbs.MaxTop) throw new ArgumentException($"top_logprobs must be in [0, {TokenLogProbs.MaxTop}] (got {LogProbs}).");
        if (MaxTokens < 1) throw new ArgumentException($"max_tokens must be >= 1 (got {MaxTokens}).");
    }
}
