// POST /tokenize and /detokenize in vLLM's shapes: how anyone checks what prompt a conversation becomes. With a base
// model the whole prompt is rendered (BOS and the dated header included); with "cartridge/<name>" the part that
// follows the cartridge, exactly what a question to it is encoded as (its prompt_tokens).
using System.Text.Json;
using Cartridges.Abstractions;
using Cartridges.Model.Chat;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Api;

/// <summary>The tokenize and detokenize endpoints.</summary>
internal static class TokenizeEndpoints
{
    /// <summary>Body of /tokenize: <c>messages</c> (rendered with the chat template) or <c>prompt</c> (plain text).</summary>
    public sealed record TokenizeRequest(string? Model, List<ChatMessageDto>? Messages, string? Prompt, bool? AddGenerationPrompt, bool? AddSpecialTokens,
        JsonElement? ChatTemplateKwargs);

    /// <summary>Body of /detokenize.</summary>
    public sealed record DetokenizeRequest(string? Model, List<int>? Tokens);

    /// <summary>Answer of /tokenize.</summary>
    public sealed record TokenizeResponse(int Count, int MaxModelLen, IReadOnlyList<int> Tokens);

    /// <summary>Answer of /detokenize.</summary>
    public sealed record DetokenizeResponse(string Prompt);

    public static async Task<IResult> TokenizeAsync(HttpContext http, IGrainFactory grains, TokenizerCache cache, IOptions<ApiOptions> api)
    {
        var request = await RequestBody.ReadJsonAsync<TokenizeRequest>(http, api.Value.MaxRequestBodyBytes, ApiJson.Options);
        var (info, cartridge) = await ResolveAsync(http, grains, cache, request.Model);
        IReadOnlyList<int> ids;
        if (request.Messages is not null)
        {
            if (request.Prompt is not null) throw ApiError.BadRequest("Send either 'messages' or 'prompt', not both.", "prompt");
            var messages = OpenAiMessages.Parse(request.Messages);
            var template = info.Template.WithThinking(ChatQuestion.EnableThinking(request.ChatTemplateKwargs));
            ids = template.Encode(info.Tokenizer, messages, request.AddGenerationPrompt ?? true, forCartridge: cartridge);
        }
        else if (request.Prompt is not null)
        {
            // Plain text is content: special-token text in it stays text. BOS is added as vLLM does unless asked not to.
            var text = info.Tokenizer.Encode(request.Prompt);
            ids = request.AddSpecialTokens != false && !cartridge && info.Tokenizer.BosId is { } bos ? [bos, .. text] : text;
        }
        else
        {
            throw ApiError.BadRequest("Send 'messages' (a chat) or 'prompt' (text).", "messages", "missing_required_parameter");
        }
        return Results.Json(new TokenizeResponse(ids.Count, info.MaxModelLength, ids), ApiJson.Options);
    }

    public static async Task<IResult> DetokenizeAsync(HttpContext http, IGrainFactory grains, TokenizerCache cache, IOptions<ApiOptions> api)
    {
        var request = await RequestBody.ReadJsonAsync<DetokenizeRequest>(http, api.Value.MaxRequestBodyBytes, ApiJson.Options);
        var (info, _) = await ResolveAsync(http, grains, cache, request.Model);
        if (request.Tokens is null) throw ApiError.BadRequest("'tokens' is required: an array of token ids.", "tokens", "missing_required_parameter");
        var bad = request.Tokens.FindIndex(t => t < 0 || t >= info.Tokenizer.VocabSize);
        if (bad >= 0) throw ApiError.BadRequest($"tokens[{bad}] = {request.Tokens[bad]} is not a token id (0 to {info.Tokenizer.VocabSize - 1}).", "tokens");
        return Results.Json(new DetokenizeResponse(info.Tokenizer.Decode(request.Tokens)), ApiJson.Options);
    }

    // A base model by name, or the caller's own cartridge (then its base model, rendering what follows the cartridge).
    static async Task<(TokenizerInfo Info, bool Cartridge)> ResolveAsync(HttpContext http, IGrainFactory grains, TokenizerCache cache, string? model)
    {
        if (string.IsNullOrEmpty(model)) throw ApiError.BadRequest("'model' is required: a base model or \"cartridge/<name>\".", "model", "missing_required_parameter");
        var baseModel = model;
        var cartridge = model.StartsWith(ChatQuestion.ModelPrefix, StringComparison.Ordinal);
        if (cartridge)
        {
            var name = model[ChatQuestion.ModelPrefix.Length..];
            if (CartridgeKey.Problem(name, "cartridge name") is { } problem) throw ApiError.BadRequest(problem, "model", "invalid_cartridge_name");
            var status = await grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of(TenantGate.Tenant(http).Name, name)).GetStatusAsync();
            if (status.State == CartridgeState.None) throw ApiError.CartridgeNotFound(name);
            baseModel = status.BaseModel ?? "default";
        }
        try
        {
            return (await cache.GetAsync(baseModel, http.RequestAborted), cartridge);
        }
        catch (ArgumentException e)
        {
            throw new ApiError(404, e.Message, code: "model_not_found", param: "model");
        }
    }
}
