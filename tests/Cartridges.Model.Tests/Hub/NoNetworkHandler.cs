namespace Cartridges.Model.Tests.Hub;

/// <summary>Fails any request, proving a code path never touches the network.</summary>
sealed class NoNetworkHandler : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"Unexpected network request: {request.Method} {request.RequestUri}");
}
