// `cartridges serve`: runs a silo host (Orleans silo + OpenAI-compatible HTTP API + dashboard) in this process,
// the same host as src/Cartridges.Silo, configured from options instead of appsettings.
using System.CommandLine;
using Cartridges.Grains.Hosting;
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
        var anonymous = new Option<bool>("--anonymous") { Description = "Accept requests without an API key, as tenant 'local' (loopback URLs only)" };
        var gpu = new Option<bool>("--accelerator") { Description = "Host cartridges on this silo (default true; false = HTTP/gateway only)", DefaultValueFactory = _ => true };
        var cmd = new Command("serve", "Run a silo: cartridge grains, the OpenAI-compatible HTTP API and the dashboard")
        {
            data, urls, model, profile, connection, device, gpu, anonymous,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var anonymousTenant = pr.GetValue(anonymous) ? "local" : null;
            if (anonymousTenant is not null && pr.GetValue(urls)!.Split(';', ',').FirstOrDefault(u => !IsLoopback(u)) is { } open)
                throw new ArgumentException($"--anonymous serves without keys, so it listens on loopback only; '{open}' is reachable from other machines.");
            // A missing directory or unknown id fails here, with one line and exit 1, before anything starts.
            var modelDir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            ModelConfig.Load(modelDir);
            var extra = anonymousTenant is null ? null : new Dictionary<string, string?> { ["Cartridges:Api:AnonymousTenant"] = anonymousTenant };
            var app = Build(Path.GetFullPath(pr.GetValue(data)!), modelDir, pr.GetValue(profile)!, pr.GetValue(connection), pr.GetValue(device)!,
                pr.GetValue(gpu), pr.GetValue(urls)!, extra);
            // Loads the model before saying ready; broken weights stop the server instead of failing cartridges later.
            await SiloRunner.RunAsync(app, ct);
            return 0;
        }));
        return cmd;
    }

    static bool IsLoopback(string url) =>
        Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) && (uri.IsLoopback || uri.Host == "localhost");

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
            ["Orleans:Metadata:device_memory_bytes"] = AcceleratorMetadata.DetectedMemoryBytes().ToString(System.Globalization.CultureInfo.InvariantCulture),
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
