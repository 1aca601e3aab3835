using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cartridges.Api.Tests.Support;

namespace Cartridges.Api.Tests.Tenants;

/// <summary>A tenant can neither see, ask, start, compose nor delete another tenant's cartridges (404, never 403); keys are required.</summary>
[Collection(ApiCollection.Name)]
public sealed class TenantIsolationTests(ApiHost host)
{
    [Fact]
    public async Task OtherTenant_Gets404Everywhere_AndSeesNothing()
    {
        using var globex = host.Http(host.GlobexKey);
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(await globex.GetAsync("/v1/cartridges/lighthouse"), HttpStatusCode.NotFound));
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(await globex.PostAsync("/v1/cartridges/lighthouse/start", null), HttpStatusCode.NotFound));
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(
            await globex.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/lighthouse", "Who keeps the log?")), HttpStatusCode.NotFound));
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(
            await globex.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("tiny", "Who?", cartridges: new[] { new { id = "lighthouse" } })), HttpStatusCode.NotFound));
        Assert.Equal("cartridge_not_found", await ApiAssert.AssertErrorAsync(await globex.DeleteAsync("/v1/cartridges/lighthouse"), HttpStatusCode.NotFound));
        Assert.Empty(await ApiAssert.ListAsync(globex));

        // Nor can acme's own request compose a name that only exists elsewhere: names resolve under the caller's tenant.
        using var acme = host.Http(host.AcmeKey);
        await ApiAssert.AssertErrorAsync(await acme.PostAsJsonAsync("/v1/chat/completions",
            ApiAssert.Chat("cartridge/lighthouse", "Who?", cartridges: new[] { new { id = "globex-only" } })), HttpStatusCode.NotFound);

        // Untouched for its owner.
        var status = await acme.GetFromJsonAsync<JsonElement>("/v1/cartridges/lighthouse");
        Assert.Equal("serving", status.GetProperty("state").GetString());
    }

    [Fact]
    public async Task MissingOrWrongKey_401_InOpenAIErrorShape()
    {
        using var anonymous = host.Http(null);
        Assert.Equal("missing_api_key", await ApiAssert.AssertErrorAsync(await anonymous.GetAsync("/v1/cartridges"), HttpStatusCode.Unauthorized));
        Assert.Equal("missing_api_key", await ApiAssert.AssertErrorAsync(
            await anonymous.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/lighthouse", "Who?")), HttpStatusCode.Unauthorized));
        using var wrong = host.Http("ck-" + new string('x', 43));
        using var response = await wrong.GetAsync("/v1/models");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("invalid_api_key", await ApiAssert.AssertErrorAsync(response, HttpStatusCode.Unauthorized));
        using var basic = host.Http(null);
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "YWNtZTp4");
        Assert.Equal("invalid_api_key", await ApiAssert.AssertErrorAsync(await basic.GetAsync("/v1/cartridges"), HttpStatusCode.Unauthorized));
    }
}
