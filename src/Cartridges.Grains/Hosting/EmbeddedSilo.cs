// A single-process cluster for the CLI (bench serve, demo): one accelerator silo on localhost with the Local
// profile, started inside the calling process so grains are called without any network hop beyond loopback.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cartridges.Grains.Hosting;

/// <summary>An in-process silo (Local profile) serving one base model.</summary>
public sealed class EmbeddedSilo : IAsyncDisposable
{
    readonly IHost _host;

    EmbeddedSilo(IHost host) => _host = host;

    /// <summary>The silo's grain factory.</summary>
    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The silo's services (engine host, metrics …).</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>Starts a silo serving <paramref name="modelDir"/> as base model <paramref name="modelName"/>, state under <paramref name="dataDir"/>.</summary>
    public static async Task<EmbeddedSilo> StartAsync(string modelDir, string dataDir, string modelName = "default", string device = "auto",
        IDictionary<string, string?>? settings = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["Cartridges:Profile"] = "Local",
            ["Cartridges:DataDirectory"] = dataDir,
            ["Cartridges:DefaultModel"] = modelName,
            [$"Cartridges:Models:{modelName}"] = modelDir,
            ["Cartridges:Device"] = device,
            ["Orleans:Metadata:gpu"] = "true",
            ["Orleans:Metadata:device_memory_bytes"] = AcceleratorMetadata.DetectedMemoryBytes().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreeLoopbackPort(), gatewayPort: FreeLoopbackPort());
            silo.AddCartridges(builder.Configuration);
        });
        var host = builder.Build();
        await host.StartAsync();
        return new EmbeddedSilo(host);
    }

    /// <summary>A TCP port free on the loopback interface right now (for silo, gateway and HTTP ports of local hosts).</summary>
    public static int FreeLoopbackPort() => Storage.Networking.LoopbackPort.Free();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
