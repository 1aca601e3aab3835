namespace Cartridges.Model.Engine;

/// <summary>A plain message asking the engine to continue a prompt (token ids; prefixes by registered id).</summary>
public sealed record GenerationRequest
{
    /// <summary>Prompt token ids (at least one).</summary>
    public required IReadOnlyList<int> Prompt { get; init; }

    /// <summary>Registered prefix ids to attend to, in order (composition: later sinks dropped).</summary>
    public IReadOnlyList<string> PrefixIds { get; init; } = [];

    /// <summary>Sampling and stopping.</summary>
    public SamplingParams Sampling { get; init; } = new();
}

/// <summary>Why a sequence ended.</summary>
public enum FinishReason
{
    /// <summary>A stop token was produced.</summary>
    Stop,
    /// <summary>max_tokens or the model's context was reached.</summary>
    Length,
    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>The outcome of one generation.</summary>
public sealed record GenerationResult(
    IReadOnlyList<int> Tokens,
    FinishReason FinishReason,
    int PromptTokens,
    TimeSpan TimeToFirstToken,
    TimeSpan Elapsed);
