using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Cartridges.Api.Tests.Support;
using Cartridges.Grains.Hosting;

namespace Cartridges.Api.Tests.Metrics;

/// <summary>The engine end of a request's trace: a span per generated answer, with what it cost.</summary>
[Collection(ApiCollection.Name)]
public sealed class EngineTraceTests(ApiHost host)
{
    [Fact]
    public async Task AnAnswer_IsOneGenerateSpan_WithItsTokenCounts()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == CartridgeTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        using var http = host.Http(host.AcmeKey);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/orchard", "What grows in the orchard?", maxTokens: 5));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Other tests answer at the same time; this request's span is the one for its cartridge with its token budget.
        var span = Assert.Single(spans, s => (string?)s.GetTagItem("cartridge") == "acme/orchard" && s.GetTagItem("cartridge.completion_tokens") is 5);
        Assert.Equal("cartridge.generate", span.OperationName);
        Assert.True((int)span.GetTagItem("cartridge.prompt_tokens")! > 0);
        Assert.True(span.Duration > TimeSpan.Zero);
    }
}
