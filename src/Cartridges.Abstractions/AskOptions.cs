namespace Cartridges.Abstractions;

/// <summary>Decoding settings of one question.</summary>
[GenerateSerializer, Immutable]
public sealed record AskOptions
{
    /// <summary>Most tokens to generate.</summary>
    [Id(0)] public int MaxTokens { get; init; } = 256;

    /// <summary>Sampling temperature (0 = greedy, the default); null = the model's generation_config.json value, else 1.</summary>
    [Id(1)] public float? Temperature { get; init; } = 0f;

    /// <summary>Nucleus sampling mass; null = the model's default, else 1.</summary>
    [Id(2)] public float? TopP { get; init; } = 1f;

    /// <summary>Sampling seed (same seed, same answer); null = a fresh random seed per question.</summary>
    [Id(3)] public ulong? Seed { get; init; } = 0;

    /// <summary>Strings that end the answer (not included).</summary>
    [Id(4)] public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Other cartridges (keys tenant/name) composed after this one, in order.</summary>
    [Id(5)] public IReadOnlyList<string> ComposeWith { get; init; } = [];

    /// <summary>If the cartridge is not Serving yet, wait up to this long instead of failing at once.</summary>
    [Id(6)] public TimeSpan? WaitForServing { get; init; }

    /// <summary>Optional system message placed before the question.</summary>
    [Id(7)] public string? System { get; init; }

    /// <summary>Earlier turns of the conversation (user and assistant, in order), rendered as turns before the question.</summary>
    [Id(8)] public IReadOnlyList<ChatTurn> History { get; init; } = [];

    /// <summary>Let a reasoning model (Qwen3) think before answering; off by default, as the cartridge was trained.</summary>
    [Id(9)] public bool EnableThinking { get; init; }

    /// <summary>Keep only the k most likely tokens (0 = off, the default); null = the model's default, else off.</summary>
    [Id(10)] public int? TopK { get; init; } = 0;

    /// <summary>Return each answer token's log-probability and this many likeliest alternatives (0–20); null = none.</summary>
    [Id(11)] public int? LogProbs { get; init; }
}

/// <summary>A token's log-probability under the model's raw next-token distribution, with its text and UTF-8 bytes.</summary>
/// <param name="TokenId">The token id.</param>
/// <param name="Token">Its text (a token that splits a character shows U+FFFD; <paramref name="Bytes"/> are exact).</param>
/// <param name="LogProb">Natural log of its probability.</param>
/// <param name="Bytes">Its UTF-8 bytes.</param>
[GenerateSerializer, Immutable]
public sealed record TokenProbability(
    [property: Id(0)] int TokenId, [property: Id(1)] string Token, [property: Id(2)] float LogProb, [property: Id(3)] byte[] Bytes);

/// <summary>One generated token's log-probability and the likeliest tokens at its position.</summary>
/// <param name="Chosen">The generated token.</param>
/// <param name="Top">The likeliest tokens at that position, most likely first.</param>
[GenerateSerializer, Immutable]
public sealed record TokenLogProb([property: Id(0)] TokenProbability Chosen, [property: Id(1)] IReadOnlyList<TokenProbability> Top);

/// <summary>One earlier turn of a conversation.</summary>
/// <param name="Role">"user" or "assistant".</param>
/// <param name="Content">What was said.</param>
[GenerateSerializer, Immutable]
public sealed record ChatTurn([property: Id(0)] string Role, [property: Id(1)] string Content);

/// <summary>The answer to one question, with token counts and timings.</summary>
[GenerateSerializer, Immutable]
public sealed record CartridgeAnswer
{
    /// <summary>The generated text.</summary>
    [Id(0)] public string Text { get; init; } = "";

    /// <summary>The generated token ids.</summary>
    [Id(1)] public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>Prompt tokens (the question turn; cartridge tokens are not counted).</summary>
    [Id(2)] public int PromptTokens { get; init; }

    /// <summary>Generated tokens.</summary>
    [Id(3)] public int CompletionTokens { get; init; }

    /// <summary>Cartridge (prefix) tokens the question was answered with.</summary>
    [Id(4)] public int CartridgeTokens { get; init; }

    /// <summary>"stop" (end of turn or a stop string) or "length".</summary>
    [Id(5)] public string FinishReason { get; init; } = "stop";

    /// <summary>Time from submission to the first generated token.</summary>
    [Id(6)] public TimeSpan TimeToFirstToken { get; init; }

    /// <summary>Time from submission to the last token.</summary>
    [Id(7)] public TimeSpan Total { get; init; }

    /// <summary>The silo that decoded the answer.</summary>
    [Id(8)] public string? Silo { get; init; }

    /// <summary>Log-probabilities of every generated token (one per <see cref="TokenIds"/> entry), when asked for.</summary>
    [Id(9)] public IReadOnlyList<TokenLogProb>? LogProbs { get; init; }
}

/// <summary>One streamed piece of an answer: new text and the token it came from; the last piece carries the totals.</summary>
[GenerateSerializer, Immutable]
public sealed record AnswerChunk
{
    /// <summary>Text decoded from this token (may be empty while a multi-byte character is incomplete).</summary>
    [Id(0)] public string Text { get; init; } = "";

    /// <summary>The token id (-1 on the final summary chunk).</summary>
    [Id(1)] public int TokenId { get; init; } = -1;

    /// <summary>The whole answer, set only on the final chunk.</summary>
    [Id(2)] public CartridgeAnswer? Final { get; init; }

    /// <summary>The log-probabilities of <see cref="TokenId"/>, when the question asked for them.</summary>
    [Id(3)] public TokenLogProb? LogProb { get; init; }
}
