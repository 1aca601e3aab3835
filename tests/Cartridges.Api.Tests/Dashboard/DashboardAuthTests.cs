using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cartridges.Api.Tests.Support;

namespace Cartridges.Api.Tests.Dashboard;

/// <summary>The Orleans dashboard answers only with the admin key; tenant keys don't open it.</summary>
[Collection(ApiCollection.Name)]
public sealed class DashboardAuthTests(ApiHost host)
{
    async Task<HttpStatusCode> GetAsync(string path, AuthenticationHeaderValue? auth)
    {
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = auth;
        using var response = await client.GetAsync(path);
        return response.StatusCode;
    }

    static AuthenticationHeaderValue Basic(string password) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password)));

    [Fact]
    public async Task Dashboard_NeedsTheAdminKey()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/dashboard/", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/dashboard/", Basic("wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/dashboard/", new AuthenticationHeaderValue("Bearer", host.AcmeKey)));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/dashboard/", Basic(ApiHost.DashboardAdminKey)));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/dashboard/", new AuthenticationHeaderValue("Bearer", ApiHost.DashboardAdminKey)));
        // Health stays open for orchestrators.
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/health/live", null));
    }
}
