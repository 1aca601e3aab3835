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
        catch (Exception e) when (Report(e is AggregateException { InnerExceptions.Count: > 0 } all ? all.InnerExceptions[^1] : e) is { } code)
        {
            // The OpenAI client retries, then throws every attempt's failure together; the last one is reported.
            return code;
        }
    }

    // Prints the one line an expected failure deserves and returns the exit code; null lets anything else surface whole.
    static int? Report(Exception e)
    {
        switch (e)
        {
            case ModelLoadException or ArgumentException or FileNotFoundException or DirectoryNotFoundException
                or InvalidDataException or HubException or KeyNotFoundException or InvalidOperationException
                or IOException or UnauthorizedAccessException
                or Cartridges.Storage.Database.SchemaMigrationException or Cartridges.Abstractions.CartridgeException:
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            case var _ when Unreachable(e):
                // The usual first mistake: no silo at the endpoint. One line that says what to do, not a socket stack trace.
                Console.Error.WriteLine($"error: cannot reach the cluster ({(e as HttpRequestException ?? e.InnerException)!.Message}). Start one with `cartridges serve`, or point " +
                                        "--endpoint (or CARTRIDGES_ENDPOINT) at a running silo; --embedded DIR runs one in this process.");
                return 1;
            case HttpRequestException:
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            case System.ClientModel.ClientResultException result:
                // The OpenAI client's error: the status and the server's own message are the news.
                Console.Error.WriteLine(result.Status > 0 ? $"error: {result.Status}: {ServerMessage(result)}" : $"error: {e.Message}");
                return 1;
            case OperationCanceledException:
                Console.Error.WriteLine("cancelled");
                return 130;
            default:
                return null;
        }
    }

    // No silo at the endpoint, whether plain HTTP or the OpenAI client (which wraps the socket error) saw it.
    static bool Unreachable(Exception e) =>
        (e as HttpRequestException ?? e.InnerException as HttpRequestException) is { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError };

    static string ServerMessage(System.ClientModel.ClientResultException e)
    {
        try
        {
            using var body = System.Text.Json.JsonDocument.Parse(e.GetRawResponse()?.Content?.ToString() ?? "");
            return body.RootElement.GetProperty("error").GetProperty("message").GetString() ?? e.Message;
        }
        catch (Exception parse) when (parse is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return e.Message;
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
