// One rule for where a silo's files go, shared by the grains' storage, the tenant store and the banner, so they can
// never disagree: a relative Cartridges:DataDirectory is taken from the directory the silo was started in (the
// caller's, as for every other command-line path), never from where the binaries or their settings live.
using Microsoft.Extensions.Configuration;

namespace Cartridges.Grains.Hosting;

/// <summary>Resolves the silo's data directory from configuration.</summary>
public static class SiloPaths
{
    /// <summary>The directory used when configuration names none.</summary>
    public const string DefaultDataDirectory = "cartridges-data";

    /// <summary>The absolute data directory: <c>Cartridges:DataDirectory</c>, relative to the working directory.</summary>
    public static string DataDirectory(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Path.GetFullPath(configuration["Cartridges:DataDirectory"] is { Length: > 0 } dir ? dir : DefaultDataDirectory, Environment.CurrentDirectory);
    }
}
