using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cartridges.Abstractions;
using Cartridges.Api.Tests.Support;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Cartridges.Api.Tests.Chat;

/// <summary>/v1/chat/completions and /v1/models through the official OpenAI .NET client (and raw HTTP for the cartridges field).</summary>
[Collection(ApiCollection.Name)]
public sealed class ChatCompletionTests(ApiHost host)
{
    const string System = "Answer from the chronicle.";
    const string Question = "Who keeps the lighthouse log?";

    OpenAIClientOptions Options => new() { Endpoint = new Uri(host.BaseAddress, "/v1") };

    ChatClient Client(string model, string? key = null) => new(model, new ApiKeyCredential(key ?? host.AcmeKey), Options);

    static ChatMessage[] Messages => [new SystemChatMessage(System), new UserChatMessage(Question)];

    [Fact]
    public async Task Chat_AnswersLikeTheGrain_WithUsage()
    {
        ChatCompletion completion = await Client("cartridge/lighthouse").CompleteChatAsync(Messages,
            new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0f, TopP = 1f });
        var expected = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse")
            .AskAsync(Question, new AskOptions { MaxTokens = 12, System = System });

        Assert.Equal(expected.Text, completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(expected.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(expected.PromptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(expected.CompletionTokens, completion.Usage.OutputTokenCount);
        Assert.Equal(expected.PromptTokens + expected.CompletionTokens, completion.Usage.TotalTokenCount);
        Assert.Equal("cartridge/lighthouse", completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id);
    }

    [Fact]
    public async Task SamplingKnobs_ReachTheGrain_TemperatureTopPSeedStop()
    {
        var greedy = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse").AskAsync(Question, new AskOptions { MaxTokens = 12, System = System });
        var stop = greedy.Text.Length > 6 ? greedy.Text.Substring(3, 3) : "\n\n";
        // top_k is left out of the request, so the model's generation_config.json value (5) applies.
        var ask = new AskOptions { MaxTokens = 12, System = System, Temperature = 0.9f, TopP = 0.8f, TopK = 5, Seed = 42, Stop = [stop] };
        var expected = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse").AskAsync(Question, ask);
#pragma warning disable OPENAI001 // Seed is marked experimental in the client
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0.9f, TopP = 0.8f, Seed = 42, StopSequences = { stop } };
#pragma warning restore OPENAI001
        ChatCompletion completion = await Client("cartridge/lighthouse").CompleteChatAsync(Messages, options);
        Assert.Equal(expected.Text, completion.Content[0].Text);
        Assert.Equal(expected.CompletionTokens, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Streaming_SameTextAsNonStreaming_WithFinishReasonAndUsage()
    {
        var client = Client("cartridge/lighthouse");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0f };
        ChatCompletion whole = await client.CompleteChatAsync(Messages, options);

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(Messages, options))
        {
            updates++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage); // the client asks for stream_options.include_usage
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.True(updates >= 3, $"role, content and finish chunks expected; got {updates} updates");
    }

    [Fact]
    public async Task MultiTurn_EarlierTurnsAreRenderedAsTurns_LikeTheGrainWithHistory()
    {
        ChatMessage[] conversation = [new SystemChatMessage(System), new UserChatMessage("Who built it?"), new AssistantChatMessage("The harbour board."), new UserChatMessage(Question)];
        ChatCompletion completion = await Client("cartridge/lighthouse").CompleteChatAsync(conversation,
            new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0f });
        var expected = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse").AskAsync(Question, new AskOptions
        {
            MaxTokens = 8,
            System = System,
            History = [new ChatTurn("user", "Who built it?"), new ChatTurn("assistant", "The harbour board.")],
        });
        var withoutHistory = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse").AskAsync(Question, new AskOptions { MaxTokens = 8, System = System });

        Assert.Equal(expected.Text, completion.Content[0].Text);
        Assert.Equal(expected.PromptTokens, completion.Usage.InputTokenCount);
        // The two earlier turns add their own headers and end-of-turn tokens, not a quoted paragraph.
        var tokenizer = global::Cartridges.Model.Tokenization.HfTokenizer.Load(host.ModelDirectory);
        var turns = global::Cartridges.Model.Chat.ChatTemplate.For("llama").Encode(tokenizer,
            [new("user", "Who built it?"), new("assistant", "The harbour board."), new("user", "x")], addGenerationPrompt: false, forCartridge: true).Count
            - global::Cartridges.Model.Chat.ChatTemplate.For("llama").Encode(tokenizer, [new("user", "x")], addGenerationPrompt: false, forCartridge: true).Count;
        Assert.Equal(withoutHistory.PromptTokens + turns, completion.Usage.InputTokenCount);
    }

    [Theory]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]", "tools")]
    [InlineData("\"response_format\": {\"type\": \"json_object\"}", "response_format")]
    [InlineData("\"logit_bias\": {\"50\": 10}", "logit_bias")]
    [InlineData("\"presence_penalty\": 0.5", "presence_penalty")]
    [InlineData("\"min_p\": 0.1", "min_p")]
    [InlineData("\"top_logprobs\": 2", "top_logprobs")]
    [InlineData("\"logprobs\": true, \"top_logprobs\": 21", "top_logprobs")]
    [InlineData("\"top_k\": -2", "top_k")]
    [InlineData("\"chat_template_kwargs\": {\"enable_thinking\": \"yes\"}", "chat_template_kwargs")]
    [InlineData("\"chat_template_kwargs\": {\"tools\": []}", "chat_template_kwargs")]
    public async Task UnsupportedFields_Get400NamingThem(string field, string param)
    {
        using var http = host.Http(host.AcmeKey);
        var body = $"{{\"model\": \"cartridge/lighthouse\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hi\"}}], {field}}}";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task NeutralValuesOfUnsupportedFields_AndThinkingSwitches_AreAccepted()
    {
        using var http = host.Http(host.AcmeKey);
        foreach (var extra in new[] { "\"presence_penalty\": 0, \"logprobs\": false, \"tools\": [], \"user\": \"u1\"", "\"chat_template_kwargs\": {\"enable_thinking\": true}" })
        {
            var body = $"{{\"model\": \"cartridge/lighthouse\", \"max_tokens\": 2, \"messages\": [{{\"role\": \"user\", \"content\": \"Hi\"}}], {extra}}}";
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task InvalidUtf8Body_Is400()
    {
        using var http = host.Http(host.AcmeKey);
        var bytes = Encoding.UTF8.GetBytes("{\"model\": \"cartridge/lighthouse\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi X\"}]}");
        bytes[Array.IndexOf(bytes, (byte)'X')] = 0xFF; // not UTF-8
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/chat/completions", content);

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        Assert.Contains("UTF-8", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StopStringsSpanningTokens_StreamTheSameTextAsTheWholeAnswer()
    {
        var grain = host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse");
        var free = await grain.AskAsync(Question, new AskOptions { MaxTokens = 24, System = System });
        // Token boundaries of the free answer: a stop string made of the end of one token and the start of the next,
        // and one that only starts to match (its first part is in the text, the rest never comes).
        var pieces = free.TokenIds.Select(id => global::Cartridges.Model.Tokenization.HfTokenizer.Load(host.ModelDirectory).Decode([id])).ToList();
        var boundary = Enumerable.Range(1, pieces.Count - 1).First(i => pieces[i - 1].Length >= 1 && pieces[i].Length >= 1 && i >= 2);
        var prefixLength = string.Concat(pieces.Take(boundary)).Length;
        var spanning = free.Text.Substring(prefixLength - 1, 2);
        var unfinished = free.Text[(prefixLength - 1)..prefixLength] + "\u0001never";

        foreach (var stop in new[] { spanning, unfinished })
        {
            var options = new AskOptions { MaxTokens = 24, System = System, Stop = [stop] };
            var whole = await grain.AskAsync(Question, options);
            var streamed = new StringBuilder();
            CartridgeAnswer? final = null;
            await foreach (var chunk in grain.AskStreamAsync(Question, options))
            {
                streamed.Append(chunk.Text);
                final = chunk.Final ?? final;
            }
            Assert.Equal(whole.Text, streamed.ToString());
            Assert.Equal(whole.Text, final!.Text);
            Assert.DoesNotContain(stop, streamed.ToString(), StringComparison.Ordinal);
        }
        Assert.True(free.Text.IndexOf(spanning, StringComparison.Ordinal) < prefixLength, "the spanning stop string cuts the answer");
    }

    [Fact]
    public async Task LeftOutSampling_UsesTheModelsGenerationConfig_AndNoSeedIsNotRepeated()
    {
        var grain = host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse");
        using var http = host.Http(host.AcmeKey);
        async Task<string> Post(object body)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", body);
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
            return json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        }
        object Body(long? seed) => seed is { } s
            ? new { model = "cartridge/lighthouse", messages = new[] { new { role = "user", content = Question } }, max_tokens = 12, seed = s }
            : new { model = "cartridge/lighthouse", messages = new[] { new { role = "user", content = Question } }, max_tokens = 12 };

        // No temperature, top_p or top_k: generation_config.json's temperature 0.7 and top-k 5 (not greedy, not OpenAI's 1).
        var seeded = await Post(Body(7));
        var configured = await grain.AskAsync(Question, new AskOptions { MaxTokens = 12, Temperature = 0.7f, TopK = 5, Seed = 7 });
        var openAiDefault = await grain.AskAsync(Question, new AskOptions { MaxTokens = 12, Temperature = 1f, Seed = 7 });
        var greedy = await grain.AskAsync(Question, new AskOptions { MaxTokens = 12 });
        Assert.Equal(configured.Text, seeded);
        Assert.NotEqual(openAiDefault.Text, seeded);
        Assert.NotEqual(greedy.Text, seeded);
        Assert.Equal(seeded, await Post(Body(7))); // the same seed repeats the answer
        // Without a seed each request draws its own: five answers of 12 tokens, each from top-5 sampling of a random
        // model, coincide with probability far below 1e-20.
        var unseeded = new List<string>();
        for (var i = 0; i < 5; i++) unseeded.Add(await Post(Body(null)));
        Assert.True(unseeded.Distinct().Count() > 1, string.Join(" | ", unseeded));
    }

    [Fact]
    public async Task TopK_IsHonoured_AndMinusOneMeansOff()
    {
        var grain = host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse");
        using var http = host.Http(host.AcmeKey);
        async Task<string> Post(int topK)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", new
            {
                model = "cartridge/lighthouse",
                messages = new[] { new { role = "user", content = Question } },
                max_tokens = 10,
                temperature = 1.0,
                seed = 3,
                top_k = topK,
            });
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
            return json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        }
        var greedy = await grain.AskAsync(Question, new AskOptions { MaxTokens = 10 });
        Assert.Equal(greedy.Text, await Post(1)); // top-1 sampling is the arg-max
        var off = await grain.AskAsync(Question, new AskOptions { MaxTokens = 10, Temperature = 1f, Seed = 3, TopK = 0 });
        Assert.Equal(off.Text, await Post(-1));
    }

    [Fact]
    public async Task LogProbs_ReachTheOpenAiClient_StreamedAndNot_OnePerToken()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 10, Temperature = 0f, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };
        ChatCompletion completion = await Client("cartridge/lighthouse").CompleteChatAsync(Messages, options);
        var tokens = completion.ContentTokenLogProbabilities;
        Assert.Equal(completion.Usage.OutputTokenCount, tokens.Count);
        var grain = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse")
            .AskAsync(Question, new AskOptions { MaxTokens = 10, System = System, LogProbs = 3 });
        Assert.Equal(grain.LogProbs!.Select(t => t.Chosen.LogProb), tokens.Select(t => t.LogProbability));
        foreach (var t in tokens)
        {
            Assert.True(t.LogProbability <= 0);
            Assert.Equal(3, t.TopLogProbabilities.Count);
            // Greedy: the generated token is the likeliest one, and bytes spell the token.
            Assert.Equal(t.TopLogProbabilities[0].Token, t.Token);
            Assert.Equal(t.TopLogProbabilities[0].LogProbability, t.LogProbability);
            Assert.Equal(t.Token, Encoding.UTF8.GetString(t.Utf8Bytes!.Value.Span));
        }

        var streamed = new List<ChatTokenLogProbabilityDetails>();
        var text = new StringBuilder();
        await foreach (var update in Client("cartridge/lighthouse").CompleteChatStreamingAsync(Messages, options))
        {
            streamed.AddRange(update.ContentTokenLogProbabilities);
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        }
        Assert.Equal(completion.Content[0].Text, text.ToString());
        Assert.Equal(tokens.Select(t => (t.Token, t.LogProbability)), streamed.Select(t => (t.Token, t.LogProbability)));

        // Without logprobs the field is null.
        using var http = host.Http(host.AcmeKey);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/lighthouse", Question));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, body.GetProperty("choices")[0].GetProperty("logprobs").ValueKind);
    }

    [Fact]
    public async Task RawSse_HasRoleFirst_FinishLast_AndDone()
    {
        using var http = host.Http(host.AcmeKey);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/lighthouse", Question, stream: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith("data: ", l));
        Assert.Equal("data: [DONE]", lines[^1]);
        var chunks = lines[..^1].Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Contains(chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        Assert.False(chunks[^1].TryGetProperty("usage", out _)); // only with stream_options.include_usage
    }

    [Fact]
    public async Task Composition_CartridgesField_AnswersLikeTheComposedGrain()
    {
        using var http = host.Http(host.AcmeKey);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions",
            ApiAssert.Chat("tiny", Question, maxTokens: 10, cartridges: new[] { new { id = "lighthouse" }, new { id = "orchard" } }));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        var expected = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse")
            .AskAsync(Question, new AskOptions { MaxTokens = 10, ComposeWith = ["acme/orchard"] });
        var alone = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse").AskAsync(Question, new AskOptions { MaxTokens = 10 });
        Assert.Equal(expected.Text, body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(32, expected.CartridgeTokens); // both cartridges were the prefix
        Assert.Equal(16, alone.CartridgeTokens);
    }

    [Fact]
    public async Task Errors_SurfaceAsClientResultExceptions_WithTheirStatus()
    {
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => Client("cartridge/nope").CompleteChatAsync(Messages));
        Assert.Equal(404, unknown.Status);
        Assert.Contains("nope", unknown.Message);

        var streamUnknown = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in Client("cartridge/nope").CompleteChatStreamingAsync(Messages)) { }
        });
        Assert.Equal(404, streamUnknown.Status);

        var badKey = await Assert.ThrowsAsync<ClientResultException>(() => Client("cartridge/lighthouse", "ck-wrong").CompleteChatAsync(Messages));
        Assert.Equal(401, badKey.Status);

        var zeroTokens = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client("cartridge/lighthouse").CompleteChatAsync(Messages, new ChatCompletionOptions { MaxOutputTokenCount = 0 }));
        Assert.Equal(400, zeroTokens.Status);

        var baseOnly = await Assert.ThrowsAsync<ClientResultException>(() => Client("tiny").CompleteChatAsync(Messages));
        Assert.Equal(400, baseOnly.Status);

        var unknownModel = await Assert.ThrowsAsync<ClientResultException>(() => Client("gpt-9").CompleteChatAsync(Messages));
        Assert.Equal(404, unknownModel.Status);

        var lastIsAssistant = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client("cartridge/lighthouse").CompleteChatAsync([new UserChatMessage("hi"), new AssistantChatMessage("hello")]));
        Assert.Equal(400, lastIsAssistant.Status);
    }

    [Fact]
    public async Task Models_ListsBaseModelsAndServingCartridges()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential(host.AcmeKey), Options);
        var ids = (await models.GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.Contains("tiny", ids);
        Assert.Contains("cartridge/lighthouse", ids);
        Assert.Contains("cartridge/orchard", ids);

        var other = new OpenAIModelClient(new ApiKeyCredential(host.GlobexKey), Options);
        Assert.Equal(["tiny"], (await other.GetModelsAsync()).Value.Select(m => m.Id).ToList());
    }
}
