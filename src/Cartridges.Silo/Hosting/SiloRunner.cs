// How a silo host runs, the same for the silo project and `cartridges serve`: start, wait for the base models, say
// so once with the banner, then serve until stopped. A model that cannot load stops the host before it says ready.
using Cartridges.Silo.Api;

namespace Cartridges.Silo.Hosting;

/// <summary>Runs a built silo host to completion.</summary>
public static class SiloRunner
{
    /// <summary>
    /// Starts <paramref name="app"/>, waits until its base models are loaded and prints the banner, then waits for
    /// shutdown. Throws (after stopping the host) when a model fails to load.
    /// </summary>
    public static async Task RunAsync(WebApplication app, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var preloader = app.Services.GetRequiredService<ModelPreloader>();
        try
        {
            await app.StartAsync(ct);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && preloader.Loaded.IsFaulted)
        {
            // A model that fails before the web server has bound stops the host mid-start, which cancels the start:
            // the load error is the reason, not the cancellation.
            await app.StopAsync(CancellationToken.None);
            await preloader.Loaded;
            throw;
        }
        IReadOnlyList<Grains.Engines.LoadedModel> models;
        try
        {
            models = await preloader.Loaded.WaitAsync(ct);
        }
        catch
        {
            await app.StopAsync(CancellationToken.None);
            throw;
        }
        var anonymous = app.Configuration[$"{ApiOptions.Section}:AnonymousTenant"];
        Console.WriteLine(SiloBanner.Format(models, app.Configuration, app.Urls, anonymous));
        Console.WriteLine("ready; Ctrl+C stops");
        await app.WaitForShutdownAsync(ct);
    }
}
