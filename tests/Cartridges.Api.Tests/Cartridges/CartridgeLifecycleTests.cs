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
    public async Task MultipartUpload_CreatesUntrained_DeleteRemovesIt()
    {
        using var http = host.Http(host.AcmeKey);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("uploaded"), "name" },
            { new StringContent("tiny"), "model" },
            { new StringContent("24"), "size_tokens" },
            { new StringContent("""{"steps": 3}"""), "training" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("First file: the keeper logs the weather.")), "files", "a.txt" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("Second file: the lamp is lit at dusk.")), "files", "b.txt" },
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
