using Cartridges.Model.Config;
using Cartridges.Model.Hub;

namespace Cartridges.Cli.Commands;

/// <summary>Runs a command body and turns expected failures into one clear line on stderr and exit code 1.</summary>
internal static class CliRunner
{
    public static async Task<int> Run(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is ModelLoadException or ArgumentException or FileNotFoundException or DirectoryNotFoundException
                                       or InvalidDataException or HubException or KeyNotFoundException or InvalidOperationException
                                       or IOException or UnauthorizedAccessException
                                       or Cartridges.Storage.Database.SchemaMigrationException or Cartridges.Abstractions.CartridgeException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                                                 or HttpRequestError.SecureConnectionError)
        {
            // The usual first mistake: no silo at the endpoint. One line that says what to do, not a socket stack trace.
            Console.Error.WriteLine($"error: cannot reach the cluster ({e.Message}). Start one with `cartridges serve`, or point " +
                                    "--endpoint (or CARTRIDGES_ENDPOINT) at a running silo; --embedded DIR runs one in this process.");
            return 1;
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    /// <summary>A model directory, or a Hugging Face id resolved from the cache or downloaded (progress on stderr).</summary>
    public static Task<string> ResolveModelAsync(string model, CancellationToken ct)
    {
        var last = "";
        var progress = new Progress<HubDownloadProgress>(p =>
        {
            var line = $"downloading {p.File} {p.BytesDone / 1048576.0:F1}/{(p.TotalBytes is { } t ? (t / 1048576.0).ToString("F1") : "?")} MiB";
            if (line != last) Console.Error.Write($"\r{line}");
            last = line;
        });
        return ModelLocator.ResolveAsync(model, null, progress, ct);
    }

    /// <summary>Parses "1,2,3" into token ids with a clear error.</summary>
    public static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException("No token ids given (expected e.g. 1,2,3).");
        return parts.Select(p => int.TryParse(p, out var id) && id >= 0 ? id : throw new ArgumentException($"'{p}' is not a token id.")).ToArray();
    }
}
