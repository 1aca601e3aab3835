using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cartridges.Abstractions;
using Cartridges.Api.Tests.Support;
using Cartridges.Model.Tests.Support;

namespace Cartridges.Api.Tests.Chat;

/// <summary>POST /tokenize and /detokenize (vLLM's shapes): the CLI's --messages output, and what a cartridge question is encoded as.</summary>
[Collection(ApiCollection.Name)]
public sealed class TokenizeTests(ApiHost host)
{
    static readonly object[] Conversation =
    [
        new { role = "system", content = "Answer from the chronicle. <|eot_id|>" },
        new { role = "user", content = "Who built it?" },
        new { role = "assistant", content = "The harbour board." },
        new { role = "user", content = "Who keeps the lighthouse log? ünïcödé  two  spaces\n" },
    ];

    static async Task<int[]> TokensAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var json = JsonDocument.Parse(body).RootElement;
        var tokens = json.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(tokens.Length, json.GetProperty("count").GetInt32());
        Assert.True(json.GetProperty("max_model_len").GetInt32() > 0);
        return tokens;
    }

    [Theory]
    [InlineData("""[{"role": "user", "content": "Hi"}, {"role": "tool", "content": "x"}]""", "messages[1].role 'tool' is not supported")]
    [InlineData("""[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]""", "messages[0].content: only text parts")]
    [InlineData("""{"role": "user"}""", "must hold a JSON array of messages")]
    public async Task CliMessagesFile_IsReadAsTheServerReadsIt_BadOnesNamed(string json, string message)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cartridges-messages-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, json);
        try
        {
            var (code, _, error) = await CliProcess.RunAsync("model", "tokenize", "--model", host.ModelDirectory, "--messages", file);
            Assert.NotEqual(0, code);
            Assert.Contains(message, error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Tokenize_Messages_EqualsTheCliRendering_ForTheBaseModel()
    {
        using var http = host.Http(host.AcmeKey);
        var served = await TokensAsync(await http.PostAsJsonAsync("/tokenize", new { model = "tiny", messages = Conversation }));

        var file = Path.Combine(Path.GetTempPath(), $"cartridges-messages-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(Conversation));
        try
        {
            var (code, output, error) = await CliProcess.RunAsync("model", "tokenize", "--model", host.ModelDirectory, "--messages", file);
            Assert.True(code == 0, error);
            Assert.Equal(JsonSerializer.Deserialize<int[]>(output.Trim()), served);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Tokenize_ForACartridge_CountsWhatTheQuestionIsEncodedAs_AndDetokenizeReadsItBack()
    {
        using var http = host.Http(host.AcmeKey);
        object[] messages = [new { role = "system", content = "Answer from the chronicle." }, new { role = "user", content = "Who keeps the lighthouse log?" }];
        var tokens = await TokensAsync(await http.PostAsJsonAsync("/tokenize", new { model = "cartridge/lighthouse", messages }));
        var answer = await host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse")
            .AskAsync("Who keeps the lighthouse log?", new AskOptions { MaxTokens = 1, System = "Answer from the chronicle." });
        Assert.Equal(answer.PromptTokens, tokens.Length);

        using var detok = await http.PostAsJsonAsync("/detokenize", new { model = "cartridge/lighthouse", tokens });
        var text = JsonDocument.Parse(await detok.Content.ReadAsStringAsync()).RootElement.GetProperty("prompt").GetString();
        Assert.Contains("Who keeps the lighthouse log?", text);

        // Plain text gets BOS in front (as vLLM adds special tokens), and special-token text in it stays text.
        var plain = await TokensAsync(await http.PostAsJsonAsync("/tokenize", new { model = "tiny", prompt = "Hello <|eot_id|>" }));
        var bare = await TokensAsync(await http.PostAsJsonAsync("/tokenize", new { model = "tiny", prompt = "Hello <|eot_id|>", add_special_tokens = false }));
        Assert.Equal(bare.Length + 1, plain.Length);
        Assert.Equal(bare, plain[1..]);
    }

    [Theory]
    [InlineData("{\"model\": \"tiny\"}", 400, "messages")]
    [InlineData("{\"model\": \"nonexistent\", \"prompt\": \"x\"}", 404, "model")]
    [InlineData("{\"model\": \"cartridge/nothing-here\", \"prompt\": \"x\"}", 404, null)]
    [InlineData("{\"model\": \"tiny\", \"prompt\": \"x\", \"messages\": []}", 400, "prompt")]
    public async Task Tokenize_BadRequests_AreNamed(string body, int status, string? param)
    {
        using var http = host.Http(host.AcmeKey);
        using var response = await http.PostAsync("/tokenize", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Detokenize_RefusesIdsOutsideTheVocabulary_AndBothNeedAKey()
    {
        using var http = host.Http(host.AcmeKey);
        using var bad = await http.PostAsJsonAsync("/detokenize", new { model = "tiny", tokens = new[] { 1, -5 } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("tokens[1]", await bad.Content.ReadAsStringAsync());

        using var anonymous = host.Http(null);
        using var refused = await anonymous.PostAsJsonAsync("/tokenize", new { model = "tiny", prompt = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
