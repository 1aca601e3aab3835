// An accelerator silo loads its base models when it starts, not on the first cartridge: a wrong path or hub id then
// stops the server with one line instead of leaving cartridges to fail in `generating`, and readiness stays false
// until the weights are in memory, so a load balancer sends nothing to a silo that cannot answer yet.
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Hosting;

/// <summary>Loads every configured base model at start on accelerator silos; <see cref="Loaded"/> completes when they are in memory.</summary>
public sealed class ModelPreloader(SiloEngineHost engines, IOptions<CartridgesOptions> options, IConfiguration configuration,
    IHostApplicationLifetime lifetime, ILogger<ModelPreloader> log) : BackgroundService
{
    readonly TaskCompletionSource<IReadOnlyList<LoadedModel>> _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    volatile string _state = "starting";

    /// <summary>Whether this silo hosts cartridges (and so loads models); a gateway silo loads nothing.</summary>
    public bool Accelerator { get; } = AcceleratorMetadata.IsTrue(configuration[$"Orleans:Metadata:{AcceleratorMetadata.Gpu}"]);

    /// <summary>The loaded models (empty on a gateway silo); faults with the first load's error.</summary>
    public Task<IReadOnlyList<LoadedModel>> Loaded => _loaded.Task;

    /// <summary>What the silo is doing with its models, for readiness.</summary>
    public string State => _state;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Accelerator)
        {
            _state = "no models: this silo hosts no cartridges";
            _loaded.TrySetResult([]);
            return;
        }
        var names = options.Value.Models.Keys.Order(StringComparer.Ordinal).ToList();
        var loaded = new List<LoadedModel>();
        try
        {
            foreach (var name in names)
            {
                _state = $"loading base model '{name}'"; // readiness is public: no server paths in it
                loaded.Add(await engines.GetAsync(name).WaitAsync(stoppingToken));
            }
            _state = names.Count == 0 ? "no base models configured (Cartridges:Models)" : $"base models loaded: {string.Join(", ", names)}";
            _loaded.TrySetResult(loaded);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _loaded.TrySetCanceled(stoppingToken);
        }
        catch (Exception e)
        {
            _state = "a base model failed to load (the silo's log says why)";
            log.LogCritical("Could not load base model: {Message}", e.Message);
            _loaded.TrySetException(e);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }
}
