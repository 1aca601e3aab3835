// The request, response and stream chunk of POST /v1/chat/completions, in OpenAI's shapes (snake_case via ApiJson).
// Only what the cartridges answer with is modelled; OpenAI fields that would change the answer but are not implemented
// (tools, response_format, logit_bias, penalties) are refused by name, harmless ones (user, metadata …) ignored.
using System.Text.Json;
using Cartridges.Abstractions;
using System.Text.Json.Serialization;

namespace Cartridges.Silo.Api;

/// <summary>An OpenAI chat completion request, plus the <c>cartridges</c> extension field.</summary>
public sealed record ChatCompletionRequest
{
    /// <summary>"cartridge/&lt;name&gt;", or a base model name when <see cref="Cartridges"/> chooses the cartridges.</summary>
    public string? Model { get; init; }

    /// <summary>The conversation; the last message must be the user's question.</summary>
    public List<ChatMessageDto>? Messages { get; init; }

    /// <summary>Cartridges to answer with, in order (several = composition).</summary>
    public List<CartridgeRef>? Cartridges { get; init; }

    /// <summary>Legacy name of <see cref="MaxCompletionTokens"/>.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Most tokens to generate.</summary>
    public int? MaxCompletionTokens { get; init; }

    /// <summary>Sampling temperature (0 = greedy); absent = the model's generation_config.json value, else 1.</summary>
    public float? Temperature { get; init; }

    /// <summary>Nucleus sampling mass; absent = the model's default, else 1.</summary>
    public float? TopP { get; init; }

    /// <summary>vLLM's extension: keep the k most likely tokens (-1 or 0 = off); absent = the model's default.</summary>
    public int? TopK { get; init; }

    /// <summary>Return the log-probability of each answer token.</summary>
    public bool? Logprobs { get; init; }

    /// <summary>With <see cref="Logprobs"/>: this many likeliest alternatives per token (0–20).</summary>
    public int? TopLogprobs { get; init; }

    /// <summary>A stop string or an array of up to four.</summary>
    public JsonElement? Stop { get; init; }

    /// <summary>Sampling seed; absent = a fresh seed per request.</summary>
    public long? Seed { get; init; }

    /// <summary>Answer as server-sent events.</summary>
    public bool? Stream { get; init; }

    /// <summary>Streaming options.</summary>
    public StreamOptionsDto? StreamOptions { get; init; }

    /// <summary>Number of choices; only 1 is supported.</summary>
    public int? N { get; init; }

    /// <summary>Template switches, as vLLM takes them: <c>{"enable_thinking": true}</c> lets Qwen3 reason first.</summary>
    public JsonElement? ChatTemplateKwargs { get; init; }

    /// <summary>Every other field of the request (checked against the ones the server refuses).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; init; }
}

/// <summary>One message: role and content (a string or an array of text parts).</summary>
public sealed record ChatMessageDto(string? Role, JsonElement? Content);

/// <summary>A cartridge named in the <c>cartridges</c> field.</summary>
public sealed record CartridgeRef(string? Id);

/// <summary>OpenAI's stream_options.</summary>
public sealed record StreamOptionsDto(bool? IncludeUsage);

/// <summary>Token counts.</summary>
public sealed record UsageDto(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>A whole chat completion.</summary>
public sealed record ChatCompletionDto(string Id, long Created, string Model, List<ChoiceDto> Choices, UsageDto Usage)
{
    /// <summary>Always "chat.completion".</summary>
    public string Object => "chat.completion";

    /// <summary>Not used (null, as OpenAI sends for models without one).</summary>
    public string? SystemFingerprint => null;
}

/// <summary>One choice of a completion; <paramref name="Logprobs"/> only when the request asked for them.</summary>
public sealed record ChoiceDto(int Index, AssistantMessageDto Message, string FinishReason, LogProbsDto? Logprobs = null);

/// <summary>OpenAI's <c>logprobs</c> of a choice: one entry per generated token.</summary>
public sealed record LogProbsDto(List<LogProbEntryDto> Content)
{
    /// <summary>Always null (no refusals).</summary>
    public object? Refusal => null;

    /// <summary>The entries of <paramref name="tokens"/>.</summary>
    public static LogProbsDto From(IEnumerable<TokenLogProb> tokens) => new([.. tokens.Select(LogProbEntryDto.From)]);
}

/// <summary>A generated token: its text, log-probability, UTF-8 bytes and the likeliest alternatives.</summary>
public sealed record LogProbEntryDto(string Token, float Logprob, int[] Bytes, List<TopLogProbDto> TopLogprobs)
{
    /// <summary>The entry of one token.</summary>
    public static LogProbEntryDto From(TokenLogProb t) =>
        new(t.Chosen.Token, t.Chosen.LogProb, Ints(t.Chosen.Bytes), [.. t.Top.Select(a => new TopLogProbDto(a.Token, a.LogProb, Ints(a.Bytes)))]);

    static int[] Ints(byte[] bytes) => [.. bytes.Select(b => (int)b)];
}

/// <summary>One alternative token at a position.</summary>
public sealed record TopLogProbDto(string Token, float Logprob, int[] Bytes);

/// <summary>The assistant's message.</summary>
public sealed record AssistantMessageDto(string Content)
{
    /// <summary>Always "assistant".</summary>
    public string Role => "assistant";
}

/// <summary>One server-sent chunk of a streamed completion.</summary>
public sealed record ChatCompletionChunkDto(string Id, long Created, string Model, List<ChunkChoiceDto> Choices)
{
    /// <summary>Always "chat.completion.chunk".</summary>
    public string Object => "chat.completion.chunk";

    /// <summary>Not used.</summary>
    public string? SystemFingerprint => null;

    /// <summary>Set on the extra last chunk when stream_options.include_usage is true.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public UsageDto? Usage { get; init; }
}

/// <summary>One choice of a chunk: the new text (delta), its tokens' log-probabilities when asked for, and on the last the finish reason.</summary>
public sealed record ChunkChoiceDto(int Index, DeltaDto Delta, string? FinishReason, LogProbsDto? Logprobs = null);

/// <summary>A chunk's increment; the first carries the role.</summary>
public sealed record DeltaDto
{
    /// <summary>"assistant" on the first chunk only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    /// <summary>New text.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Content { get; init; }
}
