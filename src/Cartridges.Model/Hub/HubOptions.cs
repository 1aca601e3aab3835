// Everything the hub client would otherwise read from the process environment, so callers and
// tests can pin it. ModelLocator uses FromEnvironment() when it is given no options.
using System.Text;

namespace Cartridges.Model.Hub;

/// <summary>Where and how models are fetched from a Hugging Face hub and cached locally.</summary>
public sealed record HubOptions
{
    /// <summary>The public hub, used when neither Endpoint nor HF_ENDPOINT says otherwise.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Base URL of the hub (HF_ENDPOINT).</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Access token sent as a bearer token to the hub host only; null for anonymous access.</summary>
    public string? Token { get; init; }

    /// <summary>Cache root holding `models--owner--name` folders; null means the standard one from the environment.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Never touch the network (HF_HUB_OFFLINE): a file missing from the cache is an error.</summary>
    public bool Offline { get; init; }

    /// <summary>Handler for hub requests (tests, proxies); it should not follow redirects itself. Not disposed.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; init; }

    /// <summary>How many times a transient failure (connection drop, 5xx, 429) is retried per file.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>Delay before the first retry; it doubles on each further retry.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Options from HF_ENDPOINT, HF_TOKEN (or its token file), HF_HUB_CACHE/HF_HOME and HF_HUB_OFFLINE.</summary>
    public static HubOptions FromEnvironment() => new()
    {
        Endpoint = HubEnvironment.Endpoint() ?? DefaultEndpoint,
        Token = HubEnvironment.Token(),
        CacheDir = HubEnvironment.CacheDir(),
        Offline = HubEnvironment.Offline(),
    };

    // Records print every property; options end up in logs, the token must not.
    bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Endpoint = {Endpoint}, Token = {(Token is null ? "null" : "***")}, CacheDir = {CacheDir}, ");
        builder.Append($"Offline = {Offline}, MaxRetries = {MaxRetries}, RetryDelay = {RetryDelay}");
        return true;
    }
}
