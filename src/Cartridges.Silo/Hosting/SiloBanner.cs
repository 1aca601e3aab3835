// Printed once, when the silo is ready: what an operator needs to see without reading configuration — which model,
// how big, on which device, what a token of KV costs, where data goes and every URL.
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;

namespace Cartridges.Silo.Hosting;

/// <summary>The startup banner of a silo host.</summary>
public static class SiloBanner
{
    /// <summary>The banner lines for a silo that loaded <paramref name="models"/>.</summary>
    public static string Format(IReadOnlyList<LoadedModel> models, IConfiguration configuration, IEnumerable<string> urls, string? anonymousTenant = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(urls);
        var lines = new List<string> { "Cartridges silo" };
        foreach (var loaded in models)
        {
            var m = loaded.Engine.Model;
            lines.Add($"  model     {loaded.Name}: {loaded.Directory} ({m.Config.Architectures[0]}, {m.ParameterCount / 1e6:F1}M parameters, " +
                      $"{m.DType} on {m.Device.type}, context {m.Config.MaxPositionEmbeddings}, KV {m.KvBytesPerToken / 1024.0:F1} KiB/token)");
        }
        if (models.Count == 0) lines.Add("  model     none loaded here: this silo hosts no cartridges (Orleans:Metadata:gpu is not true)");
        var profile = configuration["Cartridges:Profile"] ?? "Local";
        lines.Add($"  storage   {profile}{(profile == "Local" ? $", {SiloPaths.DataDirectory(configuration)}" : "")}");
        if (anonymousTenant is not null) lines.Add($"  keys      none needed: requests without a key act as tenant '{anonymousTenant}'");
        foreach (var url in urls)
            lines.Add($"  http      {url}/v1 (API), {url}/dashboard, {url}/metrics, {url}/health/ready");
        return string.Join(Environment.NewLine, lines);
    }
}
