// POST /v1/chat/completions: one question to a cartridge grain (any silo takes the request; Orleans routes the call
// to wherever the cartridge lives). Streaming waits for the first token before sending headers, so an unknown or
// untrained cartridge still gets a proper 404/409 rather than an event stream that ends in an error.
using System.Text.Json;
using Cartridges.Abstractions;
using Cartridges.Grains.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Api;

/// <summary>The OpenAI chat completions endpoint over cartridge grains.</summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext http, IGrainFactory grains, IOptions<ApiOptions> api, IOptions<CartridgesOptions> models)
    {
        var tenant = TenantGate.Tenant(http).Name;
        var request = await RequestBody.ReadJsonAsync<ChatCompletionRequest>(http, api.Value.MaxRequestBodyBytes, ApiJson.Options);
        var chat = ChatQuestion.From(request, tenant, models.Value.Models.Keys, api.Value.DefaultMaxTokens);
        var grain = grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of(tenant, chat.Cartridges[0]));
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (request.Stream == true)
        {
            await StreamAsync(http, grain, chat, id, created);
            return Results.Empty;
        }
        var answer = await grain.AskAsync(chat.Question, chat.Options);
        return Results.Json(new ChatCompletionDto(id, created, chat.Model,
            [new ChoiceDto(0, new AssistantMessageDto(answer.Text), answer.FinishReason, answer.LogProbs is { } lp ? LogProbsDto.From(lp) : null)],
            Usage(answer)), ApiJson.Options);
    }

    static async Task StreamAsync(HttpContext http, ICartridgeGrain grain, ChatQuestion chat, string id, long created)
    {
        var aborted = http.RequestAborted;
        await using var chunks = grain.AskStreamAsync(chat.Question, chat.Options, aborted).GetAsyncEnumerator(aborted);
        var more = await chunks.MoveNextAsync(); // refusals surface here, before any byte is sent

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        ChatCompletionChunkDto Chunk(DeltaDto delta, string? finish, TokenLogProb? logProb = null) =>
            new(id, created, chat.Model, [new ChunkChoiceDto(0, delta, finish, logProb is null ? null : LogProbsDto.From([logProb]))]);
        await SendAsync(http, Chunk(new DeltaDto { Role = "assistant", Content = "" }, null));
        CartridgeAnswer? final = null;
        try
        {
            for (; more; more = await chunks.MoveNextAsync())
            {
                var chunk = chunks.Current;
                if (chunk.Final is { } f) final = f;
                else if (chunk.Text.Length > 0 || chunk.LogProb is not null) await SendAsync(http, Chunk(new DeltaDto { Content = chunk.Text }, null, chunk.LogProb));
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return; // the client went away; the grain stream was cancelled with it
        }
        catch (Exception e) when (e is CartridgeException or TimeoutException or OrleansException && !aborted.IsCancellationRequested)
        {
            // Headers are gone: report in-band as OpenAI does, and end without [DONE] so clients see an incomplete stream.
            var error = e is CartridgeException c ? ApiError.From(c) : new ApiError(503, e.Message, "server_error", "unavailable");
            await SendAsync(http, error.Body());
            return;
        }
        await SendAsync(http, Chunk(new DeltaDto(), final?.FinishReason ?? "stop"));
        if (chat.IncludeUsage && final is not null)
            await SendAsync(http, new ChatCompletionChunkDto(id, created, chat.Model, []) { Usage = Usage(final) });
        await http.Response.WriteAsync("data: [DONE]\n\n", aborted);
        await http.Response.Body.FlushAsync(aborted);
    }

    static async Task SendAsync<T>(HttpContext http, T payload)
    {
        await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(payload, ApiJson.Options)}\n\n", http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    static UsageDto Usage(CartridgeAnswer answer) =>
        new(answer.PromptTokens, answer.CompletionTokens, answer.PromptTokens + answer.CompletionTokens);
}
