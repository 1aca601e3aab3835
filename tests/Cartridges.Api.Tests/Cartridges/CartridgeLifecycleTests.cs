using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cartridges.Api.Tests.Support;

namespace Cartridges.Api.Tests.Cartridges;

/// <summary>/v1/cartridges: create → start → poll GET until serving (done by the host), multipart upload, list, delete.</summary>
[Collection(ApiCollection.Name)]
public sealed class CartridgeLifecycleTests(ApiHost host)
{
    [Fact]
    public async Task CreateStartPoll_ReachesServing_WithStatusFields()
    {
        Assert.Equal("untrained", host.LighthouseStates[0]);
        Assert.Equal("serving", host.LighthouseStates[^1]);
        Assert.Contains("training", host.LighthouseStates);
        var c = host.Lighthouse;
        Assert.Equal("cartridge", c.GetProperty("object").GetString());
        Assert.Equal("lighthouse", c.GetProperty("name").GetString());
        Assert.Equal("tiny", c.GetProperty("model").GetString());
        Assert.Equal(1.0, c.GetProperty("progress").GetDouble());
        Assert.Equal(4, c.GetProperty("step").GetInt32());
        Assert.Equal(4, c.GetProperty("total_steps").GetInt32());
        Assert.Equal(JsonValueKind.Number, c.GetProperty("loss").ValueKind);
        Assert.False(string.IsNullOrEmpty(c.GetProperty("silo").GetString()));
        Assert.Equal(16, c.GetProperty("size_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, c.GetProperty("error").ValueKind);

        using var http = host.Http(host.AcmeKey);
        // The grain reports Serving just before its tensors are registered with the engine: allow a moment.
        var resident = 0L;
        for (var i = 0; i < 100 && resident == 0; i++, await Task.Delay(50))
            resident = (await http.GetFromJsonAsync<JsonElement>("/v1/cartridges/lighthouse")).GetProperty("resident_bytes").GetInt64();
        Assert.True(resident > 0, "a serving cartridge's tensors are resident");
        Assert.Subset((await ApiAssert.ListAsync(http)).ToHashSet(), new HashSet<string> { "lighthouse", "orchard" });
    }

    [Fact]
    public async Task Stop_WhileGenerating_ThenDelete_OverHttp()
    {
        using var http = host.Http(host.AcmeKey);
        var body = new
        {
            name = "stoppable",
            model = "tiny",
            corpus = ApiHost.Corpus("lighthouse-chronicle.txt")[..3000],
            size_tokens = 16,
            start = true,
            synthesis = new { conversations = 200, conversations_per_shard = 2, chunk_min_tokens = 32, chunk_max_tokens = 64, max_question_tokens = 8, max_answer_tokens = 8, conversations_per_chunk = 2, eval_shards = 1 },
            training = new { steps = 2, batch_size = 4 },
        };
        using (var created = await http.PostAsJsonAsync("/v1/cartridges", body)) Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var stop = await http.PostAsync("/v1/cartridges/stoppable/stop", null);
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        var stopped = await stop.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("stopped", stopped.GetProperty("state").GetString());
        Assert.True(stopped.GetProperty("shards_done").GetInt32() < stopped.GetProperty("shards_total").GetInt32());
        await Task.Delay(300);
        Assert.Equal("stopped", (await http.GetFromJsonAsync<JsonElement>("/v1/cartridges/stoppable")).GetProperty("state").GetString());
        // Started again, then deleted while it generates: DELETE works in every state.
        using (var started = await http.PostAsync("/v1/cartridges/stoppable/start", null)) Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        using (var deleted = await http.DeleteAsync("/v1/cartridges/stoppable")) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(await http.GetAsync("/v1/cartridges/stoppable"), HttpStatusCode.NotFound));
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(await http.PostAsync("/v1/cartridges/stoppable/stop", null), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task MultipartUpload_CreatesUntrained_DeleteRemovesIt()
    {
        using var http = host.Http(host.AcmeKey);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("uploaded"), "name" },
            { new StringContent("tiny"), "model" },
            { new StringContent("24"), "size_tokens" },
            { new StringContent("""{"steps": 3}"""), "training" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("First file: the keeper logs the weather, the tides and every passing ship.")), "files", "a.txt" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("Second file: the lamp is lit at dusk and put out at dawn, winter and summer.")), "files", "b.txt" },
        };
        using var created = await http.PostAsync("/v1/cartridges", form);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("untrained", body.GetProperty("state").GetString());
        Assert.Equal(24, body.GetProperty("size_tokens").GetInt32());
        Assert.Contains("uploaded", await ApiAssert.ListAsync(http));

        using var deleted = await http.DeleteAsync("/v1/cartridges/uploaded");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.True((await deleted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetBoolean());
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(await http.GetAsync("/v1/cartridges/uploaded"), HttpStatusCode.NotFound));
        Assert.DoesNotContain("uploaded", await ApiAssert.ListAsync(http));
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(await http.DeleteAsync("/v1/cartridges/uploaded"), HttpStatusCode.NotFound));
    }
}
