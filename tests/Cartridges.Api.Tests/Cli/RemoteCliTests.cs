using Cartridges.Abstractions;
using Cartridges.Api.Tests.Support;
using Cartridges.Model.Tests.Support;
using Cartridges.Storage.Blobs;
using System.Net.Http.Json;

namespace Cartridges.Api.Tests.Cli;

/// <summary>The `cartridges` executable as a remote client of the running host.</summary>
[Collection(ApiCollection.Name)]
public sealed class RemoteCliTests(ApiHost host)
{
    string[] Connection(string key) => ["--endpoint", host.BaseAddress.ToString(), "--api-key", key];

    [Fact]
    public async Task Embedded_CommandsRunTheirOwnSilo_OnADataDirectory()
    {
        var data = Directory.CreateTempSubdirectory("cartridges-embedded-test-").FullName;
        try
        {
            var embedded = new[] { "--embedded", data, "--embedded-model", host.ModelDirectory };
            var (code, output, error) = await CliProcess.RunAsync(["list", .. embedded]);
            Assert.True(code == 0, error);
            Assert.Contains("no cartridges", output);
            (code, _, error) = await CliProcess.RunAsync(["status", "nothing", .. embedded]);
            Assert.Equal(1, code);
            Assert.StartsWith("error: 404", error.Trim());
            Assert.True(Directory.Exists(Path.Combine(data, "grain-state")) || Directory.EnumerateFileSystemEntries(data).Any());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task CreateStartWait_FollowsProgressUntilServing_AndStartWaitOnAServingCartridgeReturnsAtOnce()
    {
        var data = Directory.CreateTempSubdirectory("cartridges-wait-test-").FullName;
        try
        {
            var corpus = Path.Combine(data, "corpus.txt");
            await File.WriteAllTextAsync(corpus, string.Join(" ", Enumerable.Repeat("The keeper logs every ship that passes the lighthouse.", 40)));
            var embedded = new[] { "--embedded", data, "--embedded-model", host.ModelDirectory };

            var (code, _, error) = await CliProcess.RunAsync(["create", "waited", "--corpus", corpus, "--wait", .. embedded]);
            Assert.Equal(1, code);
            Assert.Contains("--wait needs --start", error);

            // Budgets small enough for the tiny model to go from generating to serving in seconds.
            (code, var output, error) = await CliProcess.RunAsync(["create", "waited", "--corpus", corpus, "--tokens", "8", "--conversations", "8",
                "--conversations-per-shard", "4", "--max-question-tokens", "12", "--max-answer-tokens", "12", "--chunk-min", "32", "--chunk-max", "64",
                "--steps", "4", "--start", "--wait", .. embedded]);
            Assert.True(code == 0, error);
            Assert.Contains("serving", output);
            // One bar per phase, each in its own unit (what frames were drawn depends on timing; the units do not).
            Assert.Matches(@"waited generating  shards \d/2", output);
            Assert.Matches(@"waited training    step \d/4", output);

            (code, output, error) = await CliProcess.RunAsync(["start", "waited", "--wait", .. embedded]);
            Assert.True(code == 0, error);
            Assert.Contains("serving", output);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task StatusListAsk_ShowTheTenantsCartridges_OthersGetNotFound()
    {
        var (code, output, error) = await CliProcess.RunAsync(["status", "lighthouse", .. Connection(host.AcmeKey)]);
        Assert.True(code == 0, error);
        Assert.Contains("serving", output);

        (code, output, error) = await CliProcess.RunAsync(["list", .. Connection(host.AcmeKey)]);
        Assert.True(code == 0, error);
        Assert.Contains("lighthouse", output);
        Assert.Contains("orchard", output);

        (code, output, error) = await CliProcess.RunAsync(["ask", "lighthouse", "Who keeps the log?", "--max-tokens", "6", .. Connection(host.AcmeKey)]);
        Assert.True(code == 0, error);
        Assert.False(string.IsNullOrWhiteSpace(output));

        // Interactive chat: two turns from standard input, an empty line ends it.
        (code, output, error) = await CliProcess.RunWithInputAsync("Who keeps the log?\nAnd then?\n\n",
            ["chat", "lighthouse", "--max-tokens", "4", .. Connection(host.AcmeKey)]);
        Assert.True(code == 0, error);
        Assert.Equal(4, output.Split("> ").Length); // three prompts: two questions and the ending empty line

        // Another tenant: the cartridge does not exist for it; one clear line, exit code 1 (plain HTTP and the OpenAI client).
        (code, output, error) = await CliProcess.RunAsync(["status", "lighthouse", .. Connection(host.GlobexKey)]);
        Assert.Equal(1, code);
        Assert.StartsWith("error: 404", error.Trim());
        (code, _, error) = await CliProcess.RunAsync(["ask", "lighthouse", "Who keeps the log?", .. Connection(host.GlobexKey)]);
        Assert.Equal(1, code);
        Assert.StartsWith("error: 404", error.Trim());
        Assert.Single(error.Trim().Split('\n'));
        (code, _, error) = await CliProcess.RunAsync(["list", .. Connection("ck-not-a-key")]);
        Assert.Equal(1, code);
        Assert.Contains("401", error);
    }

    [Fact]
    public async Task StatusAndList_WithJson_PrintTheApisObjectsOnly()
    {
        var (code, output, error) = await CliProcess.RunAsync(["status", "lighthouse", "--json", .. Connection(host.AcmeKey)]);
        Assert.True(code == 0, error);
        using (var status = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.Equal("lighthouse", status.RootElement.GetProperty("name").GetString());
            Assert.Equal("serving", status.RootElement.GetProperty("state").GetString());
        }

        (code, output, error) = await CliProcess.RunAsync(["list", "--json", .. Connection(host.AcmeKey)]);
        Assert.True(code == 0, error);
        using var list = System.Text.Json.JsonDocument.Parse(output);
        var names = list.RootElement.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Contains("lighthouse", names);
        Assert.Contains("orchard", names);
    }

    [Fact]
    public async Task Import_ServesATrainedFileAtOnce_AndAnswersAsTheOriginal()
    {
        var blobs = new FileBlobStore(Path.Combine(host.DataDirectory, "blobs"));
        var grain = host.Grains.GetGrain<ICartridgeGrain>("acme/lighthouse");
        var file = Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.safetensors");
        var corpus = Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.txt");
        await File.WriteAllBytesAsync(file, await blobs.ReadAllAsync((await grain.GetStatusAsync()).CartridgeBlob!, default));
        await File.WriteAllTextAsync(corpus, ApiHost.Corpus("lighthouse-chronicle.txt"));
        try
        {
            var (code, output, error) = await CliProcess.RunAsync(["import", "imported", file, "--corpus", corpus, "--model", "tiny", .. Connection(host.AcmeKey)]);
            Assert.True(code == 0, error);
            Assert.Contains("serving", output);

            var (_, original, _) = await CliProcess.RunAsync(["ask", "lighthouse", "Who keeps the log?", "--max-tokens", "6", .. Connection(host.AcmeKey)]);
            (code, output, error) = await CliProcess.RunAsync(["ask", "imported", "Who keeps the log?", "--max-tokens", "6", .. Connection(host.AcmeKey)]);
            Assert.True(code == 0, error);
            Assert.Equal(original, output); // greedy: the same tensors give the same answer

            // A file that is not there: one line, nothing created.
            (code, _, error) = await CliProcess.RunAsync(["import", "ghost", file + ".missing", "--corpus", corpus, .. Connection(host.AcmeKey)]);
            Assert.Equal(1, code);
            Assert.Contains("does not exist", error);
        }
        finally
        {
            await CliProcess.RunAsync(["delete", "imported", .. Connection(host.AcmeKey)]);
            File.Delete(file);
            File.Delete(corpus);
        }
    }

    [Fact]
    public async Task AskWith_ComposesLikeTheApisCartridgesField()
    {
        var (code, output, error) = await CliProcess.RunAsync(["ask", "lighthouse", "Who keeps the log?", "--with", "orchard", "--max-tokens", "6", .. Connection(host.AcmeKey)]);
        Assert.True(code == 0, error);

        using var http = host.Http(host.AcmeKey);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions",
            ApiAssert.Chat("cartridge/lighthouse", "Who keeps the log?", maxTokens: 6, cartridges: new[] { new { id = "lighthouse" }, new { id = "orchard" } }));
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal(body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() + Environment.NewLine, output);
    }
}
