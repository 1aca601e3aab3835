using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Cartridges.Api.Tests.Support;

namespace Cartridges.Api.Tests.Metrics;

/// <summary>/metrics in the Prometheus text format: the engine's latency histograms after a chat, behind the admin key.</summary>
[Collection(ApiCollection.Name)]
public sealed class MetricsEndpointTests(ApiHost host)
{
    /// <summary>One sample of the exposition format: name, labels and value.</summary>
    sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var brace = line.IndexOf('{');
            var close = line.LastIndexOf('}');
            var labels = new Dictionary<string, string>();
            string name, rest;
            if (brace >= 0)
            {
                (name, rest) = (line[..brace], line[(close + 1)..]);
                foreach (var pair in SplitLabels(line[(brace + 1)..close]))
                {
                    var eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                }
            }
            else
            {
                var space = line.IndexOf(' ');
                (name, rest) = (line[..space], line[space..]);
            }
            // A timestamp may follow the value.
            var value = rest.Trim().Split(' ')[0];
            samples.Add(new Sample(name, labels, value switch { "+Inf" => double.PositiveInfinity, "-Inf" => double.NegativeInfinity, _ => double.Parse(value, CultureInfo.InvariantCulture) }));
        }
        return samples;
    }

    static IEnumerable<string> SplitLabels(string body)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '"' && (i == 0 || body[i - 1] != '\\')) quoted = !quoted;
            else if (body[i] == ',' && !quoted)
            {
                yield return body[start..i];
                start = i + 1;
            }
        }
        if (start < body.Length) yield return body[start..];
    }

    async Task<List<Sample>> ScrapeAsync()
    {
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiHost.DashboardAdminKey);
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    static double Count(List<Sample> samples, string histogram) => samples.Where(s => s.Name == histogram + "_count").Sum(s => s.Value);

    [Fact]
    public async Task AfterAChat_MetricsExposeTheLatencyHistograms_OnlyWithTheAdminKey()
    {
        using (var anonymous = new HttpClient { BaseAddress = host.BaseAddress })
        using (var tenant = host.Http(host.AcmeKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.GetAsync("/metrics")).StatusCode);
        }
        var before = await ScrapeAsync();
        using (var http = host.Http(host.AcmeKey))
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/lighthouse", "Where is the lamp?"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await Task.Delay(1500); // past the exporter's scrape cache
        var after = await ScrapeAsync();

        string[] histograms = ["cartridges_time_to_first_token_seconds", "cartridges_time_per_output_token_seconds", "cartridges_queue_time_seconds", "cartridges_e2e_latency_seconds"];
        foreach (var h in histograms)
        {
            Assert.True(Count(after, h) >= Count(before, h) + 1, $"{h}: count {Count(before, h)} -> {Count(after, h)}");
            // Buckets are cumulative and end at +Inf with the count; the sum is positive.
            var buckets = after.Where(s => s.Name == h + "_bucket").ToList();
            Assert.NotEmpty(buckets);
            var bounds = buckets.Select(b => b.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(b.Labels["le"], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(bounds.Order(), bounds);
            Assert.Equal(buckets.Select(b => b.Value).Order(), buckets.Select(b => b.Value));
            Assert.Equal(Count(after, h), buckets[^1].Value);
            Assert.True(after.Single(s => s.Name == h + "_sum").Value > 0);
        }
        Assert.Contains(after, s => s.Name.StartsWith("cartridges_generated_tokens", StringComparison.Ordinal) && s.Value >= 1);
        // The engine's load and memory gauges are exported too (values depend on what else runs; their presence does not).
        foreach (var gauge in new[] { "cartridges_waiting_sequences", "cartridges_kv_cache_bytes", "cartridges_resident_bytes" })
            Assert.Contains(after, s => s.Name.StartsWith(gauge, StringComparison.Ordinal));
    }
}
