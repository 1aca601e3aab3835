using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cartridges.Abstractions;
using Cartridges.Api.Tests.Support;

namespace Cartridges.Api.Tests.Dashboard;

/// <summary>The operators' cartridges view beside the dashboard: every tenant's cartridges, behind the admin key.</summary>
[Collection(ApiCollection.Name)]
public sealed class CartridgesViewTests(ApiHost host)
{
    static AuthenticationHeaderValue Admin => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:" + ApiHost.DashboardAdminKey)));

    HttpClient Client(AuthenticationHeaderValue? auth)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = auth;
        return client;
    }

    [Fact]
    public async Task TheView_NeedsTheAdminKey()
    {
        using var none = Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync("/dashboard/cartridges")).StatusCode);
        using var tenant = Client(new AuthenticationHeaderValue("Bearer", host.AcmeKey));
        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.GetAsync("/dashboard/cartridges.json")).StatusCode);
    }

    [Fact]
    public async Task TheView_ListsEveryCartridgeWithStateSiloResidentBytesAndThroughput()
    {
        // An answer first, so the cartridge is resident and has produced tokens in the last minute.
        using (var api = host.Http(host.AcmeKey))
        {
            using var asked = await api.PostAsJsonAsync("/v1/chat/completions", ApiAssert.Chat("cartridge/lighthouse", "Who keeps the log?", maxTokens: 4));
            Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        }

        using var admin = Client(Admin);
        var json = await admin.GetFromJsonAsync<JsonElement>("/dashboard/cartridges.json");
        var rows = json.GetProperty("data").EnumerateArray().ToList();
        var lighthouse = rows.Single(r => r.GetProperty("tenant").GetString() == "acme" && r.GetProperty("name").GetString() == "lighthouse");
        Assert.Equal("serving", lighthouse.GetProperty("state").GetString());
        Assert.Equal(1.0, lighthouse.GetProperty("progress").GetDouble());
        Assert.False(string.IsNullOrEmpty(lighthouse.GetProperty("silo").GetString()));
        Assert.True(lighthouse.GetProperty("resident_bytes").GetInt64() > 0);
        Assert.True(lighthouse.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.Contains(rows, r => r.GetProperty("name").GetString() == "orchard");

        var html = await admin.GetStringAsync("/dashboard/cartridges");
        Assert.Contains("<td>lighthouse</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"serving\">serving</td>", html, StringComparison.Ordinal);
        Assert.Matches(@"\d+ cartridge\(s\) \([^)]*\d+ serving", html); // the count by state, which the stock dashboard sums away
        Assert.Contains(WebUtility.HtmlEncode(lighthouse.GetProperty("silo").GetString()!), html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDashboardsGrainStateView_ShowsTheStoredRecords()
    {
        using var admin = Client(Admin);
        var cartridge = await admin.GetStringAsync("/dashboard/GrainState?grainId=acme/lighthouse&grainType=Cartridges.Grains.Cartridge.CartridgeGrain");
        // The dashboard answers with its serialized state as a JSON string.
        using var outer = JsonDocument.Parse(cartridge);
        using (var json = JsonDocument.Parse(outer.RootElement.ValueKind == JsonValueKind.String ? outer.RootElement.GetString()! : cartridge))
        {
            var state = json.RootElement.GetProperty("GetState");
            Assert.Equal((int)CartridgeState.Serving, state.GetProperty("State").GetInt32());
            Assert.False(string.IsNullOrEmpty(state.GetProperty("CartridgeBlob").GetString()));
        }
        var tenant = await admin.GetStringAsync("/dashboard/GrainState?grainId=acme&grainType=Cartridges.Silo.Tenants.TenantGrain");
        Assert.Contains("lighthouse", tenant, StringComparison.Ordinal);
    }
}
