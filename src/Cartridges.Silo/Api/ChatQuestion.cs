// Turns an OpenAI chat request into what a cartridge grain answers: which cartridges (the first is asked, the rest
// composed after it), the question, and the decoding options. Cartridges are always the caller's own: names are
// resolved under the authenticated tenant, so another tenant's cartridge can be neither asked nor composed.
using System.Text;
using System.Text.Json;
using Cartridges.Abstractions;

namespace Cartridges.Silo.Api;

/// <summary>A validated chat request: the cartridges, the question and the options to ask with.</summary>
internal sealed record ChatQuestion(IReadOnlyList<string> Cartridges, string Question, AskOptions Options, string Model, bool IncludeUsage)
{
    /// <summary>The prefix of <c>model</c> values that name a cartridge.</summary>
    public const string ModelPrefix = "cartridge/";

    /// <summary>Validates <paramref name="request"/> for <paramref name="tenant"/>; throws <see cref="ApiError"/> (400/404) for anything unusable.</summary>
    public static ChatQuestion From(ChatCompletionRequest request, string tenant, ICollection<string> baseModels, int defaultMaxTokens)
    {
        var names = new List<string>();
        if (request.Model is { } model && model.StartsWith(ModelPrefix, StringComparison.Ordinal)) names.Add(model[ModelPrefix.Length..]);
        foreach (var reference in request.Cartridges ?? [])
        {
            var id = reference?.Id ?? throw ApiError.BadRequest("Every entry of 'cartridges' needs an 'id'.", "cartridges");
            names.Add(id.StartsWith(ModelPrefix, StringComparison.Ordinal) ? id[ModelPrefix.Length..] : id);
        }
        names = [.. names.Distinct(StringComparer.Ordinal)];
        if (names.Count == 0)
        {
            if (string.IsNullOrEmpty(request.Model)) throw ApiError.BadRequest("'model' is required: \"cartridge/<name>\".", "model", "missing_required_parameter");
            if (!baseModels.Contains(request.Model))
                throw new ApiError(404, $"The model '{request.Model}' does not exist.", code: "model_not_found", param: "model");
            throw ApiError.BadRequest($"Questions are answered from cartridges: use model \"cartridge/<name>\" or \"cartridges\": [{{\"id\": \"<name>\"}}] with base model '{request.Model}'.", "model");
        }
        foreach (var name in names)
            if (CartridgeKey.Problem(name, "cartridge name") is { } problem) throw ApiError.BadRequest(problem, "model", "invalid_cartridge_name");

        RefuseUnsupported(request);
        var (system, history, question) = Conversation(request.Messages);
        var maxTokens = request.MaxCompletionTokens ?? request.MaxTokens ?? defaultMaxTokens;
        if (maxTokens < 1) throw ApiError.BadRequest($"max_tokens must be >= 1 (got {maxTokens}).", request.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens");
        if (request.Temperature is < 0 or > 2) throw ApiError.BadRequest($"temperature must be in [0, 2] (got {request.Temperature}).", "temperature");
        if (request.TopP is <= 0 or > 1) throw ApiError.BadRequest($"top_p must be in (0, 1] (got {request.TopP}).", "top_p");
        if (request.TopK is < -1) throw ApiError.BadRequest($"top_k must be -1 (off), 0 (off) or a positive count (got {request.TopK}).", "top_k");
        if (request.TopLogprobs is { } top)
        {
            if (request.Logprobs != true) throw ApiError.BadRequest("top_logprobs needs logprobs: true.", "top_logprobs");
            if (top is < 0 or > 20) throw ApiError.BadRequest($"top_logprobs must be in [0, 20] (got {top}).", "top_logprobs");
        }
        if (request.N is { } n && n != 1) throw ApiError.BadRequest($"Only n = 1 is supported (got {n}).", "n");
        var options = new AskOptions
        {
            MaxTokens = maxTokens,
            // Left out = the model's generation_config.json value, else OpenAI's default (temperature 1, top_p 1);
            // no seed = a fresh one per request.
            Temperature = request.Temperature,
            TopP = request.TopP,
            TopK = request.TopK is -1 ? 0 : request.TopK,
            Seed = request.Seed is { } seed ? unchecked((ulong)seed) : null,
            LogProbs = request.Logprobs == true ? request.TopLogprobs ?? 0 : null,
            Stop = StopStrings(request.Stop),
            ComposeWith = [.. names.Skip(1).Select(name => CartridgeKey.Of(tenant, name))],
            System = system,
            History = history,
            EnableThinking = EnableThinking(request.ChatTemplateKwargs),
        };
        return new ChatQuestion(names, question, options, request.Model ?? ModelPrefix + names[0], request.StreamOptions?.IncludeUsage == true);
    }

    /// <summary>System/developer messages become the system prompt; the last message is the question; earlier turns stay turns.</summary>
    static (string? System, IReadOnlyList<ChatTurn> History, string Question) Conversation(List<ChatMessageDto>? messages)
    {
        if (messages is not { Count: > 0 }) throw ApiError.BadRequest("'messages' must hold at least one user message.", "messages", "missing_required_parameter");
        var system = new List<string>();
        var turns = new List<ChatTurn>();
        foreach (var message in OpenAiMessages.Parse(messages))
        {
            if (message.Role == "system") system.Add(message.Content);
            else turns.Add(new ChatTurn(message.Role, message.Content));
        }
        if (turns.Count == 0 || turns[^1].Role != "user") throw ApiError.BadRequest("The last message must be the user's question.", "messages");
        if (string.IsNullOrWhiteSpace(turns[^1].Content)) throw ApiError.BadRequest("The question (last user message) is empty.", "messages");
        return (system.Count == 0 ? null : string.Join("\n\n", system), turns[..^1], turns[^1].Content);
    }

    // Fields that would change the answer if honoured: refusing them by name beats answering as if they were applied.
    static readonly string[] Unsupported =
        ["tools", "tool_choice", "functions", "function_call", "parallel_tool_calls", "response_format", "logit_bias",
         "presence_penalty", "frequency_penalty", "repetition_penalty", "min_p", "prediction", "audio", "modalities"];

    static void RefuseUnsupported(ChatCompletionRequest request)
    {
        foreach (var name in Unsupported)
        {
            if (request.Other?.TryGetValue(name, out var value) != true || IsNeutral(value)) continue;
            throw ApiError.BadRequest($"'{name}' is not supported by this server; leave it out of the request.", name, "unsupported_parameter");
        }
    }

    // Values that ask for nothing (null, false, 0, an empty list) are what many clients send by default.
    static bool IsNeutral(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.False or JsonValueKind.Undefined => true,
        JsonValueKind.Number => value.TryGetDouble(out var d) && d == 0,
        JsonValueKind.Array => value.GetArrayLength() == 0,
        JsonValueKind.String => value.GetString() is "none" or "",
        _ => false,
    };

    /// <summary>chat_template_kwargs.enable_thinking (false when absent); anything else in it is refused by name.</summary>
    public static bool EnableThinking(JsonElement? kwargs)
    {
        if (kwargs is not { } k || k.ValueKind == JsonValueKind.Null) return false;
        if (k.ValueKind != JsonValueKind.Object) throw ApiError.BadRequest("chat_template_kwargs must be an object.", "chat_template_kwargs");
        foreach (var p in k.EnumerateObject())
        {
            if (p.Name != "enable_thinking")
                throw ApiError.BadRequest($"chat_template_kwargs.{p.Name} is not supported (only enable_thinking).", "chat_template_kwargs", "unsupported_parameter");
            if (p.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw ApiError.BadRequest("chat_template_kwargs.enable_thinking must be true or false.", "chat_template_kwargs");
            return p.Value.ValueKind == JsonValueKind.True;
        }
        return false;
    }

    static IReadOnlyList<string> StopStrings(JsonElement? stop)
    {
        if (stop is not { } s || s.ValueKind == JsonValueKind.Null) return [];
        if (s.ValueKind == JsonValueKind.String) return s.GetString() is { Length: > 0 } one ? [one] : [];
        if (s.ValueKind != JsonValueKind.Array || s.GetArrayLength() > 4 || s.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw ApiError.BadRequest("stop must be a string or an array of at most 4 strings.", "stop");
        return [.. s.EnumerateArray().Select(e => e.GetString()!).Where(e => e.Length > 0)];
    }
}
