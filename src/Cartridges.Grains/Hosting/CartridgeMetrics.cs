// Cartridge counters as OpenTelemetry-style instruments. The meter is created through IMeterFactory under the name
// "Microsoft.Orleans" so the Orleans dashboard's silo counters page shows them next to Orleans' own (measured here;
// undocumented behaviour), while any OpenTelemetry/Prometheus exporter can still pick them up by instrument name.
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Cartridges.Abstractions;
using Cartridges.Grains.Engines;

namespace Cartridges.Grains.Hosting;

/// <summary>Per-silo cartridge metrics: cartridges by state, resident bytes, decode tokens/s and batch size.</summary>
public sealed class CartridgeMetrics
{
    /// <summary>The meter name (shared with Orleans so the dashboard lists the instruments).</summary>
    public const string MeterName = "Microsoft.Orleans";

    readonly ConcurrentDictionary<string, CartridgeState> _states = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, (double TokensPerSecond, double Loss)> _training = new(StringComparer.Ordinal);

    /// <summary>Creates the instruments.</summary>
    public CartridgeMetrics(IMeterFactory meters, SiloEngineHost engines)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("cartridges-by-state", () => _states.Values.GroupBy(s => s)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("state", g.Key.ToString().ToLowerInvariant()))),
            description: "Cartridge activations on this silo, by lifecycle state");
        meter.CreateObservableGauge("cartridges-resident-bytes", () => engines.Loaded.Sum(m => m.Engine.Stats.PrefixBytes),
            unit: "By", description: "Cartridge tensor bytes resident in this silo's engines");
        meter.CreateObservableGauge("cartridges-model-bytes", () => engines.Loaded.Sum(m => m.Engine.Stats.WeightBytes),
            unit: "By", description: "Model weight bytes resident in this silo's engines");
        meter.CreateObservableGauge("cartridges-tokens-per-second", () => engines.Loaded.Sum(m => m.Engine.Stats.TokensPerSecond),
            description: "Generated tokens per second on this silo");
        meter.CreateObservableGauge("cartridges-batch-size", () => engines.Loaded.Sum(m => m.Engine.Stats.LastBatchSize),
            description: "Sequences in the latest decode step");
        meter.CreateObservableGauge("cartridges-active-sequences", () => engines.Loaded.Sum(m => m.Engine.Stats.ActiveSequences),
            description: "Sequences being decoded");
        meter.CreateObservableGauge("cartridges-waiting-sequences", () => engines.Loaded.Sum(m => m.Engine.Stats.QueuedSequences),
            description: "Sequences waiting for a decode slot");
        meter.CreateObservableGauge("cartridges-kv-cache-bytes", () => engines.Loaded.Sum(m => m.Engine.Stats.CacheBytes),
            unit: "By", description: "KV cache bytes of the sequences being decoded");
        // Training is not decoding: these say how fast the cartridges training on this silo go, and how well.
        meter.CreateObservableGauge("cartridges-training-tokens-per-second", () => _training.Values.Sum(t => t.TokensPerSecond),
            description: "Tokens per second of the latest optimizer step, summed over the cartridges training on this silo");
        meter.CreateObservableGauge("cartridges-training-loss", () => _training.Select(kv =>
                new Measurement<double>(kv.Value.Loss, new KeyValuePair<string, object?>("cartridge", kv.Key))),
            description: "Distillation loss of each training cartridge's latest optimizer step");
        meter.CreateObservableCounter("cartridges-evictions", () => engines.Evictions,
            description: "Cartridges dropped from memory by the residency budget (Cartridges:ResidentBudgetBytes)");
        meter.CreateObservableCounter("cartridges-reloads", () => engines.Reloads,
            description: "Evicted cartridges loaded again from the blob store for a question");
    }

    /// <summary>Records the state of a cartridge activation on this silo (None removes it).</summary>
    public void Track(string key, CartridgeState state)
    {
        if (state == CartridgeState.None) _states.TryRemove(key, out _);
        else _states[key] = state;
    }

    /// <summary>Records a training cartridge's latest optimizer step (null when it stops training).</summary>
    public void TrackTraining(string key, double? tokensPerSecond, double loss = double.NaN)
    {
        if (tokensPerSecond is { } tps) _training[key] = (tps, loss);
        else _training.TryRemove(key, out _);
    }

    /// <summary>Cartridge activations on this silo by state.</summary>
    public IReadOnlyDictionary<CartridgeState, int> CountsByState() =>
        _states.Values.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
}
