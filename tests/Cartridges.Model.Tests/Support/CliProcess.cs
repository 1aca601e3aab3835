using System.Diagnostics;

namespace Cartridges.Model.Tests.Support;

/// <summary>Runs the built `cartridges` executable as a separate process, as a user would.</summary>
public static class CliProcess
{
    static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cartridges.Cluster.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Repository root not found above the test binaries.");
    });

    static readonly Lazy<string> Dll = new(() =>
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
        var dll = Path.Combine(Root.Value, "src", "Cartridges.Cli", "bin", configuration, "net10.0", "cartridges.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the CLI first.", dll);
    });

    /// <summary>The repository's root directory (the one holding Cartridges.Cluster.sln).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>Runs `cartridges args…`; returns exit code, stdout and stderr.</summary>
    public static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    /// <summary>Runs `cartridges args…` with <paramref name="input"/> as its standard input (none when null).</summary>
    public static async Task<(int Code, string Out, string Err)> RunWithInputAsync(string? input, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false };
        psi.ArgumentList.Add(Dll.Value);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CARTRIDGES_DEVICE"] = "cpu";
        psi.Environment["HF_HUB_OFFLINE"] = "1";
        using var p = Process.Start(psi)!;
        if (input is not null)
        {
            await p.StandardInput.WriteAsync(input);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // A hung command must not outlive its test (it would hold the CPU for every test after it).
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"cartridges {string.Join(' ', args)} did not exit within 5 minutes; killed. stdout so far: {await stdout}");
        }
        return (p.ExitCode, await stdout, await stderr);
    }
}
