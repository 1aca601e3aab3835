// Silo hosts run as their own processes, as operators run them: the output is kept for assertions and for the
// failure message, and the process never outlives its test.
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Cartridges.Api.Tests.Support;

/// <summary>A running silo host process (the silo project or `cartridges serve`) and everything it printed.</summary>
public sealed class HostProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    public HostProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public void Stop()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    /// <summary>Polls /health/ready until <paramref name="done"/> holds for its status and the "models" check's description.</summary>
    public static async Task<(HttpStatusCode Status, string? Models)> WaitForReadinessAsync(HttpClient http, Func<(HttpStatusCode Status, string? Models), bool> done, HostProcess silo)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            if (silo.HasExited) throw new InvalidOperationException($"The silo exited with {silo.ExitCode}:\n{silo.Output}");
            try
            {
                using var response = await http.GetAsync("/health/ready");
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var models = json.RootElement.GetProperty("checks").EnumerateArray()
                    .FirstOrDefault(c => c.GetProperty("name").GetString() == "models") is { ValueKind: JsonValueKind.Object } check
                    ? check.GetProperty("description").GetString()
                    : null;
                if (done((response.StatusCode, models))) return (response.StatusCode, models);
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The silo never got there:\n{silo.Output}");
            await Task.Delay(100);
        }
    }
}
