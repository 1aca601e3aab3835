// The silo project as an operator starts it: its own process, from a directory that is neither the project's nor the
// binaries'. Its settings must still come from the appsettings.json beside the binaries (the accelerator flag among
// them), its data from the directory it was started in, and readiness must wait for the base model.
using System.Diagnostics;
using Cartridges.Api.Tests.Support;
using System.Net;
using Cartridges.Grains.Hosting;
using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Cartridges.Model.Tests.Hub;
using Cartridges.Model.Tests.Support;
using Cartridges.Silo.Tenants;
using TorchSharp;

namespace Cartridges.Api.Tests.Hosting;

public sealed class SiloProcessTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), "silo-process-" + Guid.NewGuid().ToString("N")[..8]);

    public SiloProcessTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try
        {
            if (Environment.GetEnvironmentVariable("KEEP_TEST_DIR") is null) Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task StartedFromAnotherDirectory_ReadsItsSettings_KeepsDataThere_AndIsReadyOnlyOnceTheModelLoaded()
    {
        // The model comes from a hub that stalls halfway through the weights until the test lets it go, so the silo is
        // up (HTTP, Orleans) while its model is still loading.
        var modelDir = Path.Combine(_root, "model");
        RandomModelWriter.Create(modelDir, ModelFamily.Llama, "tiny", 5, torch.ScalarType.Float32);
        var files = Directory.GetFiles(modelDir).ToDictionary(f => Path.GetFileName(f), f => new FakeHubFile(File.ReadAllBytes(f), Lfs: f.EndsWith(".safetensors", StringComparison.Ordinal)));
        // The stall outlasts a slow silo start on a busy machine; the test releases it as soon as it has seen "loading".
        using var hub = new FakeHubServer("acme/tiny", files) { StallFile = "model.safetensors", StallTimeout = TimeSpan.FromMinutes(3) };

        var cwd = Path.Combine(_root, "ops");
        var key = await TenantAdmin.AddAsync(Path.Combine(cwd, "cartridges-data"), "acme");
        var port = EmbeddedSilo.FreeLoopbackPort();
        using var silo = StartSilo(cwd, port, hub.Endpoint, Path.Combine(_root, "hf"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            var (status, models) = await HostProcess.WaitForReadinessAsync(http, s => s.Models?.Contains("loading", StringComparison.Ordinal) == true, silo);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("loading base model 'default'", models);

            hub.ReleaseStall(); // the downloader resumes the weights where the dropped connection left them
            (status, models) = await HostProcess.WaitForReadinessAsync(http, s => s.Status == HttpStatusCode.OK, silo);
            Assert.Equal("base models loaded: default", models);

            // The key was written to the data directory of the directory the silo started in: it is accepted there.
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
            request.Headers.Authorization = new("Bearer", key);
            using var listed = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);

            // The banner: the model was loaded because appsettings.json (beside the binaries) marks the silo as an
            // accelerator, which no variable here does; storage is the started-in directory's.
            var output = silo.Output;
            Assert.Contains("  model     default: ", output, StringComparison.Ordinal);
            Assert.Contains($"  storage   Local, {Path.Combine(cwd, "cartridges-data")}", output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(cwd, "cartridges-data", "tenants.json")));
        }
        finally
        {
            silo.Stop();
        }
    }

    [Fact]
    public async Task ServeAnonymous_AnswersWithoutAKey_AndSaysSo()
    {
        var modelDir = Path.Combine(_root, "model");
        RandomModelWriter.Create(modelDir, ModelFamily.Llama, "tiny", 5, torch.ScalarType.Float32);
        var port = EmbeddedSilo.FreeLoopbackPort();
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { CliDll(), "serve", "--anonymous", "--model", modelDir, "--urls", $"http://127.0.0.1:{port}" }) psi.ArgumentList.Add(a);
        psi.Environment["CARTRIDGES_DEVICE"] = "cpu";
        psi.Environment["Orleans__SiloPort"] = EmbeddedSilo.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["Orleans__GatewayPort"] = EmbeddedSilo.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var serve = new HostProcess(Process.Start(psi)!);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await HostProcess.WaitForReadinessAsync(http, s => s.Status == HttpStatusCode.OK, serve);
            using var models = await http.GetAsync("/v1/models"); // no Authorization header
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
            Assert.Contains("keys      none needed: requests without a key act as tenant 'local'", serve.Output, StringComparison.Ordinal);
        }
        finally
        {
            serve.Stop();
        }
    }

    [Fact]
    public async Task ServeAnonymous_OnAnAddressOtherMachinesReach_IsRefused()
    {
        var (code, _, error) = await CliProcess.RunAsync("serve", "--anonymous", "--model", "./whatever", "--urls", "http://0.0.0.0:5000");
        Assert.Equal(1, code);
        Assert.Contains("--anonymous serves without keys, so it listens on loopback only; 'http://0.0.0.0:5000'", error, StringComparison.Ordinal);
    }

    static string CliDll() => Path.Combine(Path.GetDirectoryName(SiloDll())!.Replace(Path.Combine("Cartridges.Silo", "bin"), Path.Combine("Cartridges.Cli", "bin"), StringComparison.Ordinal), "cartridges.dll");

    [Fact]
    public async Task TheSiloProject_WithAModelPathThatIsNotThere_ExitsWithCode1AndSaysWhy()
    {
        using var silo = StartSilo(Path.Combine(_root, "ops"), EmbeddedSilo.FreeLoopbackPort(), "http://127.0.0.1:9", Path.Combine(_root, "hf"),
            model: Path.Combine(_root, "no-such-model"));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!silo.HasExited && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(silo.HasExited, $"still running:\n{silo.Output}");
        Assert.Equal(1, silo.ExitCode);
        Assert.Contains($"Could not load base model: Model directory `{Path.Combine(_root, "no-such-model")}` does not exist", silo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("ready; Ctrl+C", silo.Output, StringComparison.Ordinal);
    }

    static HostProcess StartSilo(string cwd, int port, string hubEndpoint, string hfHome, string model = "acme/tiny")
    {
        Directory.CreateDirectory(cwd);
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(SiloDll());
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{port}");
        psi.Environment["Cartridges__Models__default"] = model;
        psi.Environment["Cartridges__Device"] = "cpu";
        psi.Environment["Orleans__SiloPort"] = EmbeddedSilo.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["Orleans__GatewayPort"] = EmbeddedSilo.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["HF_ENDPOINT"] = hubEndpoint;
        psi.Environment["HF_HOME"] = hfHome;
        psi.Environment.Remove("HF_HUB_OFFLINE");
        psi.Environment.Remove("HF_HUB_CACHE");
        return new HostProcess(Process.Start(psi)!);
    }

    /// <summary>The silo project's own build output (same configuration as these tests).</summary>
    static string SiloDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = dir.Parent!.Name; // bin/<Configuration>/net10.0/
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cartridges.Cluster.sln"))) dir = dir.Parent;
        var dll = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("Repository root not found."), "src", "Cartridges.Silo", "bin", configuration, "net10.0", "Cartridges.Silo.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the silo project first.", dll);
    }
}
