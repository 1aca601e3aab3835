// Error messages cross to clients (HTTP bodies, cartridge status), but the exceptions behind them often name files
// on the server: the data and work directories, model folders, the temp folder. Those say how the server is laid out
// and nothing the caller can act on, so every message leaving a grain or the API has them replaced by a label.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Cartridges.Grains.Hosting;

/// <summary>Replaces the silo's own directories in messages with labels such as &lt;data&gt; or &lt;model tiny&gt;.</summary>
public sealed class ServerPaths
{
    readonly (string Prefix, string Label)[] _roots;

    /// <summary>Collects the directories of this silo's configuration.</summary>
    public ServerPaths(IOptions<CartridgesOptions> options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        var roots = new List<(string, string)>();
        void Add(string? path, string label)
        {
            if (string.IsNullOrWhiteSpace(path)) return;
            try
            {
                var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
                if (full.Length > 1) roots.Add((full, label));
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                // Not a path (a hub id such as org/model): nothing of the server's to hide.
            }
        }
        foreach (var (name, location) in options.Value.Models)
            if (Path.IsPathRooted(location) || Directory.Exists(location)) Add(location, $"<model {name}>");
        Add(SiloPaths.DataDirectory(configuration), "<data>");
        Add(options.Value.WorkDirectory, "<work>");
        Add(AppContext.BaseDirectory, "<app>");
        Add(Path.GetTempPath(), "<tmp>");
        Add(Environment.CurrentDirectory, "<cwd>");
        Add(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "~");
        // Longest first: a work directory inside the data directory reads <work>, not <data>/work.
        _roots = [.. roots.DistinctBy(r => r.Item1).OrderByDescending(r => r.Item1.Length)];
    }

    /// <summary>The message with every server directory replaced by its label.</summary>
    public string Scrub(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var (prefix, label) in _roots) message = message.Replace(prefix, label, StringComparison.Ordinal);
        return message;
    }
}
