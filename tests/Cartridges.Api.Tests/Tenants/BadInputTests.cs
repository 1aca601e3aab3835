using System.Net.Http.Headers;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Cartridges.Api.Tests.Support;
using Cartridges.Silo.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Cartridges.Api.Tests.Tenants;

/// <summary>Bad names, bad bodies and over-limit requests get clear 4xx OpenAI errors and store nothing.</summary>
[Collection(ApiCollection.Name)]
public sealed class BadInputTests(ApiHost host)
{
    [Fact]
    public async Task BadNames_400_InBodyAndPath()
    {
        using var http = host.Http(host.GlobexKey);
        foreach (var name in new[] { "../etc", "..", "Upper", ".hidden", "a/b", "a b", new string('n', 65), "" })
            Assert.Equal("invalid_cartridge_name", await ApiAssert.AssertErrorAsync(
                await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate(name, "text")), HttpStatusCode.BadRequest));
        foreach (var path in new[] { "Upper", "a..b", new string('n', 65) })
            Assert.Equal("invalid_cartridge_name", await ApiAssert.AssertErrorAsync(await http.GetAsync($"/v1/cartridges/{path}"), HttpStatusCode.BadRequest));
        // Encoded separators and dot segments never reach a cartridge: 400 (bad name) or 404 (no such route), in OpenAI's shape.
        foreach (var path in new[] { "..%2F..%2Fetc", "%2E%2E", "..%2Facme%2Flighthouse", "x/../../acme/lighthouse" })
        {
            using var response = await http.GetAsync($"/v1/cartridges/{path}");
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            await ApiAssert.AssertErrorAsync(response, response.StatusCode);
        }
        Assert.Equal("invalid_cartridge_name", await ApiAssert.AssertErrorAsync(
            await http.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/../acme/lighthouse", "Who?")), HttpStatusCode.BadRequest));
        Assert.Empty(await ApiAssert.ListAsync(http));
    }

    [Fact]
    public async Task BadBodies_Clear4xx_NothingStored()
    {
        using var http = host.Http(host.GlobexKey);
        await ApiAssert.AssertErrorAsync(await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate("empty", "")), HttpStatusCode.BadRequest);
        await ApiAssert.AssertErrorAsync(await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate("blank", "   \n ")), HttpStatusCode.BadRequest);
        Assert.Equal("invalid_json", await ApiAssert.AssertErrorAsync(
            await http.PostAsync("/v1/cartridges", new StringContent("{\"name\": \"x\",", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_json", await ApiAssert.AssertErrorAsync(
            await http.PostAsJsonAsync("/v1/cartridges", new { name = "typo", corpus = "text", size_tokns = 16 }), HttpStatusCode.BadRequest));
        await ApiAssert.AssertErrorAsync(await http.PostAsJsonAsync("/v1/cartridges",
            new { name = "steps", corpus = "text", training = new { steps = 0 } }), HttpStatusCode.BadRequest);
        await ApiAssert.AssertErrorAsync(await http.PostAsJsonAsync("/v1/cartridges",
            new { name = "model", model = "no-such-model", corpus = "text" }), HttpStatusCode.BadRequest);
        Assert.Equal("request_too_large", await ApiAssert.AssertErrorAsync(await http.PostAsJsonAsync("/v1/cartridges",
            ApiHost.TinyCreate("huge", new string('a', (int)ApiHost.MaxCreateBodyBytes + 1))), HttpStatusCode.RequestEntityTooLarge));
        // Chunked (no Content-Length): Kestrel's per-request limit stops it.
        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(
            $"{{\"name\":\"chunked\",\"corpus\":\"{new string('a', (int)ApiHost.MaxCreateBodyBytes)}\"}}")));
        chunked.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/cartridges") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal("request_too_large", await ApiAssert.AssertErrorAsync(await http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge));
        Assert.Empty(await ApiAssert.ListAsync(http));
    }

    [Fact]
    public async Task OverLimitBudgets_AndImpossibleSizes_400NamingTheField_NothingStored()
    {
        using var http = host.Http(host.GlobexKey);
        var corpus = ApiHost.Corpus("lighthouse-chronicle.txt")[..2000];
        foreach (var (field, body) in new (string, object)[]
        {
            ("training.steps", new { name = "steps", model = "tiny", corpus, size_tokens = 16, training = new { steps = 2_000_000_000 } }),
            ("training.batch_size", new { name = "batch", model = "tiny", corpus, size_tokens = 16, training = new { batch_size = 2_000_000_000 } }),
            ("synthesis.conversations", new { name = "conv", model = "tiny", corpus, size_tokens = 16, synthesis = new { conversations = 2_000_000_000 } }),
            ("synthesis.max_answer_tokens", new { name = "answer", model = "tiny", corpus, size_tokens = 16, synthesis = new { max_answer_tokens = 2_000_000_000 } }),
            ("synthesis.max_question_tokens", new { name = "question", model = "tiny", corpus, size_tokens = 16, synthesis = new { max_question_tokens = 2_000_000_000 } }),
            ("synthesis.conversations_per_chunk", new { name = "chunk", model = "tiny", corpus, size_tokens = 16, synthesis = new { conversations_per_chunk = 2_000_000_000 } }),
            ("size_tokens", new { name = "size", model = "tiny", corpus, size_tokens = 2_000_000_000 }),
        })
        {
            using var response = await http.PostAsJsonAsync("/v1/cartridges", body);
            var error = await ApiAssert.ErrorBodyAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal(field, error.GetProperty("param").GetString());
            Assert.Contains(field, error.GetProperty("message").GetString());
        }
        // Within the limits but more than the corpus holds: refused at create, not after synthesis.
        using (var response = await http.PostAsJsonAsync("/v1/cartridges", new { name = "too-big", model = "tiny", corpus = "A short corpus of a few words.", size_tokens = 64 }))
            Assert.Contains("size_tokens", (await ApiAssert.ErrorBodyAsync(response, HttpStatusCode.BadRequest)).GetProperty("message").GetString());
        Assert.Empty(await ApiAssert.ListAsync(http));
    }

    [Fact]
    public async Task JsonErrors_NameTheField_WithoutDotNetTypeNames()
    {
        using var http = host.Http(host.GlobexKey);
        foreach (var (json, field, says) in new[]
        {
            ("{\"name\": \"x\", \"corpus\": \"text\", \"size_tokens\": \"many\"}", "size_tokens", "an integer"),
            ("{\"name\": \"x\", \"corpus\": \"text\", \"start\": 3}", "start", "true or false"),
            ("{\"name\": \"x\", \"corpus\": \"text\", \"training\": {\"learning_rate\": \"fast\"}}", "training.learning_rate", "training.learning_rate"),
            ("{\"name\": \"x\", \"corpus\": \"text\", \"size_tokns\": 16}", "size_tokns", "unknown field"),
            ("{\"name\": \"x\",", null, "line 1"),
        })
        {
            using var response = await http.PostAsync("/v1/cartridges", new StringContent(json, Encoding.UTF8, "application/json"));
            var error = await ApiAssert.ErrorBodyAsync(response, HttpStatusCode.BadRequest);
            var message = error.GetProperty("message").GetString()!;
            Assert.True(message.Contains(says, StringComparison.Ordinal), message);
            if (field is not null) Assert.Contains(field, message);
            Assert.DoesNotContain("System.", message);
            Assert.DoesNotContain("Cartridges.", message);
            Assert.DoesNotContain("`1", message);
        }
        Assert.Empty(await ApiAssert.ListAsync(http));
    }

    [Fact]
    public async Task TenantLimits_CorpusCartridgesConcurrency_4xx()
    {
        using var http = host.Http(host.TightKey);
        Assert.Equal("corpus_quota_exceeded", await ApiAssert.AssertErrorAsync(
            await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate("big", new string('a', 4001))), HttpStatusCode.RequestEntityTooLarge));
        Assert.Empty(await ApiAssert.ListAsync(http));

        // Corpora of more tokens than the 16-token cartridge they make.
        const string small = "One small text about a lighthouse keeper, the harbour, the boats and the long winter nights on the coast.";
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate("first", small))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate("first", small))).StatusCode); // idempotent
        await ApiAssert.AssertErrorAsync(await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate("first", small + " Another text.")), HttpStatusCode.Conflict);
        Assert.Equal("cartridge_quota_exceeded", await ApiAssert.AssertErrorAsync(
            await http.PostAsJsonAsync("/v1/cartridges", ApiHost.TinyCreate("second", "Two.")), HttpStatusCode.TooManyRequests));
        Assert.Equal(["first"], await ApiAssert.ListAsync(http));

        // Hold the tenant's one slot with a request whose body never finishes arriving, then try another.
        var release = new TaskCompletionSource();
        using var slow = new SlowContent("{\"name\": ", "\"third\", \"corpus\": \"x\"}", release.Task);
        using var slowClient = host.Http(host.TightKey);
        var pending = slowClient.PostAsync("/v1/cartridges", slow);
        var concurrency = host.App.Services.GetRequiredService<TenantConcurrency>();
        for (var i = 0; i < 200 && concurrency.InFlight("tight") == 0; i++) await Task.Delay(25);
        Assert.Equal(1, concurrency.InFlight("tight"));
        using var refused = await http.GetAsync("/v1/cartridges");
        Assert.Equal("rate_limit_exceeded", await ApiAssert.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests));
        Assert.NotNull(refused.Headers.RetryAfter);

        release.SetResult();
        Assert.Equal("cartridge_quota_exceeded", await ApiAssert.AssertErrorAsync(await pending, HttpStatusCode.TooManyRequests));
        Assert.Equal(["first"], await ApiAssert.ListAsync(http));
        Assert.Equal(HttpStatusCode.OK, (await http.DeleteAsync("/v1/cartridges/first")).StatusCode);
        Assert.Empty(await ApiAssert.ListAsync(http));
    }
}

/// <summary>A JSON body sent in two parts, the second only when <c>release</c> completes (the first is flushed to the server).</summary>
sealed class SlowContent : HttpContent
{
    readonly string _first, _rest;
    readonly Task _release;

    public SlowContent(string first, string rest, Task release)
    {
        (_first, _rest, _release) = (first, rest, release);
        Headers.ContentType = new MediaTypeHeaderValue("application/json");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(_first));
        await stream.FlushAsync(); // HttpClient buffers request bodies; without this the server would see nothing yet
        await _release;
        await stream.WriteAsync(Encoding.UTF8.GetBytes(_rest));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
