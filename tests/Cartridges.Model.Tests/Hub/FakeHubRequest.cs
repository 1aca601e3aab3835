namespace Cartridges.Model.Tests.Hub;

/// <summary>A request the fake hub received.</summary>
sealed record FakeHubRequest(string Method, string Path, string Host, string? Range, string? Authorization);
