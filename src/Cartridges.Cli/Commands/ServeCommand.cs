// `cartridges serve`: runs a silo host (Orleans silo + OpenAI-compatible HTTP API + dashboard) in this process,
// the same host as src/Cartridges.Silo, configured from options instead of appsettings.
using System.CommandLine;
using Cartridges.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

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
            var settings = new Dictionary<string, string?>
            {
                ["Cartridges:Profile"] = pr.GetValue(profile),
                ["Cartridges:DataDirectory"] = Path.GetFullPath(pr.GetValue(data)!),
                ["Cartridges:Models:default"] = pr.GetValue(model),
                ["Cartridges:DefaultModel"] = "default",
                ["Cartridges:Device"] = pr.GetValue(device),
                ["Orleans:Metadata:gpu"] = pr.GetValue(gpu) ? "true" : "false",
                ["Orleans:Metadata:device_memory_bytes"] = (16L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            if (pr.GetValue(connection) is { } cs) settings["ConnectionStrings:Postgres"] = cs;
            var builder = WebApplication.CreateBuilder();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.WebHost.UseUrls(pr.GetValue(urls)!.Split(';', ','));
            builder.AddCartridgesSilo();
            var app = builder.Build();
            app.MapCartridgesEndpoints();
            Console.WriteLine($"serving on {pr.GetValue(urls)} (dashboard at /dashboard, API at /v1); Ctrl+C stops");
            await app.StartAsync(ct);
            await app.WaitForShutdownAsync(ct);
            return 0;
        }));
        return cmd;
    }
}
