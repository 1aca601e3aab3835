// Bounded load on loopback: 200 concurrent chat requests over 20 cartridges of one tenant, all through Kestrel and
// the OpenAI client, on the shared single-silo host. The 20 cartridges are imports (multipart "cartridge" file) of
// the two trained ones, so each answer is known in advance: greedy decoding of the same tensors and question.
using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using Cartridges.Abstractions;
using Cartridges.Api.Tests.Support;
using Cartridges.Storage.Blobs;
using OpenAI;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace Cartridges.Api.Tests.Load;

/// <summary>≥ 200 concurrent chat requests across ≥ 20 cartridges all complete with the right answer; memory stays bounded.</summary>
[Collection(ApiCollection.Name)]
public sealed class ConcurrentChatLoadTests(ApiHost host, ITestOutputHelper output)
{
    const int Cartridges = 20, Requests = 200, MaxTokens = 8;
    static readonly string[] Questions = ["Who keeps the log?", "What happened in the storm?"];

    [Fact]
    public async Task TwoHundredConcurrentChats_TwentyCartridges_AllCorrect()
    {
        var blobs = new FileBlobStore(Path.Combine(host.DataDirectory, "blobs"));
        var sources = new[] { "lighthouse", "orchard" };
        var files = new Dictionary<string, byte[]>();
        var expected = new Dictionary<(string, string), string>();
        foreach (var source in sources)
        {
            var grain = host.Grains.GetGrain<ICartridgeGrain>($"acme/{source}");
            files[source] = await blobs.ReadAllAsync((await grain.GetStatusAsync()).CartridgeBlob!, default);
            foreach (var q in Questions) expected[(source, q)] = (await grain.AskAsync(q, new AskOptions { MaxTokens = MaxTokens })).Text;
        }

        using var http = host.Http(host.LoadKey);
        for (var i = 0; i < Cartridges; i++)
        {
            using var form = new MultipartFormDataContent
            {
                { new StringContent($"copy-{i:00}"), "name" },
                { new StringContent("tiny"), "model" },
                { new StringContent($"Corpus of copy {i}."), "corpus" },
                { new ByteArrayContent(files[sources[i % 2]]), "cartridge", "c.safetensors" },
            };
            using var created = await http.PostAsync("/v1/cartridges", form);
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        var options = new OpenAIClientOptions { Endpoint = new Uri(host.BaseAddress, "/v1"), NetworkTimeout = TimeSpan.FromMinutes(5) };
        var clients = Enumerable.Range(0, Cartridges).Select(i => new ChatClient($"cartridge/copy-{i:00}", new ApiKeyCredential(host.LoadKey), options)).ToArray();
        async Task<(int Request, string Source, string Question, string Text, int Tokens)[]> Round(int requests) =>
            await Task.WhenAll(Enumerable.Range(0, requests).Select(async r =>
            {
                var question = Questions[r / Cartridges % 2];
                ChatCompletion c = await clients[r % Cartridges].CompleteChatAsync([new UserChatMessage(question)],
                    new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0f });
                return (Request: r, Source: sources[r % Cartridges % 2], Question: question, Text: c.Content[0].Text, Tokens: c.Usage.OutputTokenCount);
            }));
        // Warm-up: one request per cartridge and question loads all 20 cartridges into the engine and brings the JIT,
        // Kestrel's pools, the engine's cache and the native allocator's arenas to their working size, so the measured
        // round below counts only what 200 more requests keep. Each figure is taken after a full blocking collection
        // (finalizers run, so tensor handles nobody holds are freed on both sides alike).
        await Round(2 * Cartridges);
        var before = SettledWorkingSet();
        var clock = Stopwatch.StartNew();
        var answers = await Round(Requests);
        clock.Stop();
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;
        var after = SettledWorkingSet();

        var report = new StringBuilder()
            .AppendLine($"{Requests} requests over {Cartridges} cartridges in {clock.Elapsed.TotalSeconds:F1} s ({Requests / clock.Elapsed.TotalSeconds:F1} req/s, " +
                $"{answers.Sum(a => a.Tokens) / clock.Elapsed.TotalSeconds:F0} tok/s)")
            .AppendLine($"working set {before >> 20} MiB before, {after >> 20} MiB after, peak {peak >> 20} MiB");
        output.WriteLine(report.ToString());
        Assert.Equal(Requests, answers.Length);
        Assert.Equal(Requests, answers.Select(a => a.Request).Distinct().Count());
        Assert.All(answers, a => Assert.True(a.Tokens > 0, $"request {a.Request} got no tokens"));
        Assert.All(answers, a => Assert.Equal(expected[(a.Source, a.Question)], a.Text));
        // Bounded: 200 short answers must not leave the process holding much more than after the warm-up. A request
        // that kept its tensors would keep at least its logits (50k vocabulary × 4 bytes × 8 steps ≈ 1.6 MB), i.e.
        // ≥ 300 MiB over 200 requests, plus its KV cache; growth without a leak is allocator and GC noise (tens of MiB).
        Assert.True(after - before < 256L << 20, report.ToString());
    }

    static long SettledWorkingSet()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
