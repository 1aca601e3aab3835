// The environment variables huggingface_hub reads, with its precedence, so that a cache and token
// set up for the Python tools are found here too.
namespace Cartridges.Model.Hub;

/// <summary>Reads the HF_* environment variables with huggingface_hub's defaults.</summary>
/// <remarks>Each method takes an optional variable lookup so tests need not change the process environment.</remarks>
static class HubEnvironment
{
    /// <summary>HF_ENDPOINT without a trailing slash, or null.</summary>
    public static string? Endpoint(Func<string, string?>? env = null) => Get(env, "HF_ENDPOINT")?.TrimEnd('/');

    /// <summary>$HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.</summary>
    public static string CacheDir(Func<string, string?>? env = null) =>
        Expand(Get(env, "HF_HUB_CACHE") ?? Get(env, "HUGGINGFACE_HUB_CACHE")) ?? Path.Combine(HfHome(env), "hub");

    /// <summary>HF_TOKEN, else the token file (HF_TOKEN_PATH, else $HF_HOME/token), else null.</summary>
    public static string? Token(Func<string, string?>? env = null)
    {
        if (Get(env, "HF_TOKEN") is { } token)
            return token.Trim();
        var path = Expand(Get(env, "HF_TOKEN_PATH")) ?? Path.Combine(HfHome(env), "token");
        try
        {
            var text = File.Exists(path) ? File.ReadAllText(path).Trim() : "";
            return text.Length > 0 ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable token file must not block public models; private ones will report 401.
            return null;
        }
    }

    /// <summary>HF_HUB_OFFLINE set to 1/true/yes/on (case-insensitive), as huggingface_hub reads it.</summary>
    public static bool Offline(Func<string, string?>? env = null) =>
        Get(env, "HF_HUB_OFFLINE")?.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON";

    // $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
    static string HfHome(Func<string, string?>? env) =>
        Expand(Get(env, "HF_HOME"))
        ?? Path.Combine(Expand(Get(env, "XDG_CACHE_HOME")) ?? Path.Combine(Home(), ".cache"), "huggingface");

    static string Home() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    static string? Get(Func<string, string?>? env, string name) =>
        (env ?? Environment.GetEnvironmentVariable)(name) is { Length: > 0 } value ? value : null;

    static string? Expand(string? path) =>
        path is null ? null
        : path == "~" ? Home()
        : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(Home(), path[2..])
        : path;
}
