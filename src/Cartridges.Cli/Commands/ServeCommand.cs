// `cartridges serve`: runs a silo host (Orleans silo + OpenAI-compatible HTTP API + dashboard) in this process,
// the same host as src/Cartridges.Silo, configured from options instead of appsettings.
using System.CommandLine;
using Cartridges.Grains.Engines;
using Cartridges.Model.Config;
using Cartridges.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cartridges.Cli.Commands;

/// <summary>The `serve` command.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Data directory (Local profile: grain state, blobs, tenants)", DefaultValueFactory = _ => "cartridges-data" };
        var urls = new Option<string>("--urls") { Description = "HTTP listen URLs", DefaultValueFactory = _ => "http://localhost:5000" };
        var model = new Option<string>("--model") { Description = "Base model directory or Hugging Face id served as 'default'", Required = true };
        var profile = new Option<string>("--profile") { Description = "Local | Postgres", DefaultValueFactory = _ => "Local" };
        var connection = new Option<string?>("--connection") { Description = "PostgreSQL connection string (Postgres profile)" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };
        var gpu = new Option<bool>("--accelerator") { Description = "Host cartridges on this silo (default true; false = HTTP/gateway only)", DefaultValueFactory = _ => true };
        var cmd = new Command("serve", "Run a silo: cartridge grains, the OpenAI-compatible HTTP API and the dashboard")
        {
            data, urls, model, profile, connection, device, gpu,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            // A missing directory or unknown id fails here, with one line and exit 1, before anything starts.
            var modelDir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            ModelConfig.Load(modelDir);
            var app = Build(Path.GetFullPath(pr.GetValue(data)!), modelDir, pr.GetValue(profile)!, pr.GetValue(connection), pr.GetValue(device)!,
                pr.GetValue(gpu), pr.GetValue(urls)!);
            await app.StartAsync(ct);
            LoadedModel? loaded = null;
            try
            {
                // An accelerator silo loads its model now, so broken weights stop the server instead of failing cartridges later.
                if (pr.GetValue(gpu)) loaded = await app.Services.GetRequiredService<SiloEngineHost>().GetAsync("default");
            }
            catch
            {
                await app.StopAsync(CancellationToken.None);
                throw;
            }
            Console.WriteLine(Banner(modelDir, loaded, pr.GetValue(profile)!, Path.GetFullPath(pr.GetValue(data)!), app.Urls));
            Console.WriteLine($"serving {modelDir} on {string.Join(", ", app.Urls)} (dashboard at /dashboard, API at /v1); Ctrl+C stops");
            await app.WaitForShutdownAsync(ct);
            return 0;
        }));
        return cmd;
    }

    /// <summary>What an operator needs to see once: the model and its footprint, the device, where data goes and every URL.</summary>
    static string Banner(string modelDir, LoadedModel? loaded, string profile, string dataDir, ICollection<string> urls)
    {
        var lines = new List<string> { "Cartridges silo" };
        if (loaded is { Engine.Model: var m })
        {
            lines.Add($"  model     {modelDir} ({m.Config.Architectures[0]}, {m.ParameterCount / 1e6:F1}M parameters, {m.DType} on {m.Device.type}, " +
                      $"context {m.Config.MaxPositionEmbeddings}, KV {m.KvBytesPerToken / 1024.0:F1} KiB/token)");
        }
        else
        {
            lines.Add($"  model     {modelDir} (not loaded here: this silo hosts no cartridges)");
        }
        lines.Add($"  storage   {profile}{(profile == "Local" ? $", {dataDir}" : "")}");
        foreach (var url in urls)
            lines.Add($"  http      {url}/v1 (API), {url}/dashboard, {url}/metrics, {url}/health/ready");
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>A silo host (grains, HTTP API, dashboard) configured from these settings, not yet started.</summary>
    public static WebApplication Build(string dataDir, string model, string profile, string? connection, string device, bool accelerator, string urls,
        Dictionary<string, string?>? extra = null, bool quiet = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cartridges:Profile"] = profile,
            ["Cartridges:DataDirectory"] = dataDir,
            ["Cartridges:Models:default"] = model,
            ["Cartridges:DefaultModel"] = "default",
            ["Cartridges:Device"] = device,
            ["Orleans:Metadata:gpu"] = accelerator ? "true" : "false",
            ["Orleans:Metadata:device_memory_bytes"] = (16L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (connection is not null) settings["ConnectionStrings:Postgres"] = connection;
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        if (quiet) builder.Logging.ClearProviders(); // embedded in a client command: its output is the command's
        builder.WebHost.UseUrls(urls.Split(';', ','));
        builder.AddCartridgesSilo();
        var app = builder.Build();
        app.MapCartridgesEndpoints();
        return app;
    }
}
