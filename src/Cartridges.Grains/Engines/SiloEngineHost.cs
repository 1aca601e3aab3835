// One per silo (DI singleton). Grains never touch tensors: they ask this host for the silo's engine of a base model
// and submit work to it, so every request on the silo, whatever its cartridge, lands in the same decode batches.
// Cartridge tensors are registered once per content hash and shared by every request and every grain using them,
// counted per holding grain so that one tenant deleting its cartridge never pulls tensors from under another. Under a
// byte budget (Cartridges:ResidentBudgetBytes) the least recently asked cartridges that no request is using are dropped
// and reloaded from the blob store on their next question; a request holds a lease, so nothing it uses is evicted.
using System.Diagnostics;
using System.Collections.Concurrent;
using Cartridges.Grains.Hosting;
using Cartridges.Model.Engine;
using Cartridges.Model.Hub;
using Cartridges.Model.Tokenization;
using Cartridges.Storage;
using Cartridges.Storage.Blobs;
using Cartridges.Training.Cartridges;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cartridges.Grains.Engines;

/// <summary>Owns this silo's model engines and the cartridge tensors registered with them.</summary>
public sealed class SiloEngineHost : IDisposable
{
    readonly CartridgesOptions _options;
    readonly ILogger<SiloEngineHost> _log;
    readonly LoadOnce<string, LoadedModel> _models = new(StringComparer.Ordinal);
    readonly LoadOnce<(string Model, string Blob), long> _cartridges = new();
    // Who needs each registered cartridge: tensors stay while one holder is left. One gate per cartridge orders its
    // registration and unregistration, so a release never removes what a concurrent holder has just registered.
    readonly Dictionary<(string Model, string Blob), HashSet<string>> _holders = [];
    readonly ConcurrentDictionary<(string Model, string Blob), SemaphoreSlim> _gates = new();
    // Under the _holders lock: requests using each cartridge now, when each was last used, and which were evicted.
    readonly Dictionary<(string Model, string Blob), int> _pins = [];
    readonly Dictionary<(string Model, string Blob), long> _lastUse = [];
    readonly HashSet<(string Model, string Blob)> _evicted = [];
    long _evictions, _reloads;
    readonly CancellationTokenSource _stopping = new();
    int _disposed;

    /// <summary>Creates the host; nothing is loaded until first use.</summary>
    public SiloEngineHost(IOptions<CartridgesOptions> options, ILogger<SiloEngineHost> log)
    {
        _options = options.Value;
        _log = log;
        Stopping = _stopping.Token;
    }

    /// <summary>Cancelled when the silo shuts down: long work (synthesis, training) stops between steps.</summary>
    /// <remarks>
    /// The token stays readable after the host is disposed: grains finishing their work during shutdown still ask it
    /// whether they were interrupted (a disposed source's Token getter would throw, and the work would be recorded as
    /// failed instead of left to resume).
    /// </remarks>
    public CancellationToken Stopping { get; }

    /// <summary>The silo's options.</summary>
    public CartridgesOptions Options => _options;

    /// <summary>The engine of a base model on this silo, loading it on first use.</summary>
    public Task<LoadedModel> GetAsync(string modelName)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var name = _options.CanonicalModelName(modelName);
        var location = _options.ResolveModel(modelName);
        return _models.GetAsync(name, n => LoadAsync(n, location));
    }

    /// <summary>Models already loaded (or loading) on this silo.</summary>
    public IEnumerable<LoadedModel> Loaded => _models.Loaded;

    /// <summary>
    /// Registers a cartridge file from the blob store with a model's engine once, on behalf of <paramref name="holder"/>
    /// (a cartridge grain's key); returns its resident bytes. Tensors are keyed by content hash, so several holders (the
    /// same file imported by two tenants, a composition asked from another grain) share one registration.
    /// </summary>
    public async Task<long> EnsureCartridgeAsync(LoadedModel model, string blob, IBlobStore blobs, string holder)
    {
        using var lease = await AcquireCartridgeAsync(model, blob, blobs, holder);
        return ResidentBytes(model.Name, blob);
    }

    /// <summary>
    /// As <see cref="EnsureCartridgeAsync"/>, and keeps the tensors resident until the lease is disposed: a request
    /// holds it from before it is submitted until its last token, so the residency budget never evicts what it uses.
    /// </summary>
    public async Task<CartridgeLease> AcquireCartridgeAsync(LoadedModel model, string blob, IBlobStore blobs, string holder)
    {
        ArgumentNullException.ThrowIfNull(model);
        var key = (model.Name, blob);
        lock (_holders)
        {
            // The hot path of every question: already held and loaded.
            if (_holders.TryGetValue(key, out var held) && held.Contains(holder) && _cartridges.TryGetLoaded(key, out _)) return Pin(key);
        }
        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        CartridgeLease lease;
        await gate.WaitAsync();
        try
        {
            lock (_holders)
            {
                if (!_holders.TryGetValue(key, out var set)) _holders[key] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(holder);
                // Pinned before it loads, so a concurrent eviction cannot drop it between loading and use.
                lease = Pin(key);
            }
            try
            {
                await _cartridges.GetAsync(key, _ => RegisterAsync(model, blob, blobs));
                lock (_holders)
                {
                    if (_evicted.Remove(key)) Interlocked.Increment(ref _reloads);
                }
            }
            catch
            {
                lease.Dispose();
                Forget(key, holder);
                throw;
            }
        }
        finally
        {
            gate.Release();
        }
        await EvictOverBudgetAsync();
        return lease;
    }

    CartridgeLease Pin((string Model, string Blob) key)
    {
        _pins[key] = _pins.GetValueOrDefault(key) + 1;
        _lastUse[key] = Stopwatch.GetTimestamp();
        return new CartridgeLease(() =>
        {
            lock (_holders)
            {
                if (--_pins[key] == 0) _pins.Remove(key);
                if (_holders.ContainsKey(key)) _lastUse[key] = Stopwatch.GetTimestamp();
            }
        });
    }

    /// <summary>Cartridges dropped by the residency budget since the silo started.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Evicted cartridges loaded again for a later question.</summary>
    public long Reloads => Interlocked.Read(ref _reloads);

    /// <summary>Bytes of cartridge tensors registered on this silo (every model).</summary>
    public long CartridgeBytes => _cartridges.LoadedEntries.Sum(e => e.Value);

    /// <summary>Drops least recently used, unleased cartridges until the silo is within its budget (or only leased ones are left).</summary>
    async Task EvictOverBudgetAsync()
    {
        var budget = _options.ResidentBudgetBytes;
        if (budget <= 0) return;
        while (CartridgeBytes > budget)
        {
            List<(string Model, string Blob)> idle;
            lock (_holders)
            {
                idle = [.. _cartridges.LoadedEntries.Select(e => e.Key).Where(k => !_pins.ContainsKey(k))
                    .OrderBy(k => _lastUse.GetValueOrDefault(k))];
            }
            var evicted = false;
            foreach (var key in idle)
            {
                // A busy gate means the cartridge is being loaded or released right now: try the next one.
                var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
                if (!await gate.WaitAsync(0)) continue;
                try
                {
                    lock (_holders)
                    {
                        if (_pins.ContainsKey(key) || !_cartridges.Remove(key)) continue;
                        _evicted.Add(key);
                    }
                    if (_models.TryGetLoaded(key.Model, out var model)) await model.Engine.UnregisterPrefixAsync(PrefixId(key.Blob));
                    Interlocked.Increment(ref _evictions);
                    _log.LogDebug("Evicted cartridge {Blob} of {Model} (residency budget {Budget} bytes)", key.Blob, key.Model, budget);
                    evicted = true;
                    break;
                }
                finally
                {
                    gate.Release();
                }
            }
            if (!evicted) return;
        }
    }

    /// <summary>The engine prefix id of a cartridge blob.</summary>
    public static string PrefixId(string blob) => "cartridge:" + blob;

    /// <summary>
    /// <paramref name="holder"/> no longer needs a cartridge's tensors; they are dropped when no holder is left (running
    /// sequences keep them until they finish).
    /// </summary>
    public async Task ReleaseCartridgeAsync(string modelName, string blob, string holder)
    {
        var key = (_options.CanonicalModelName(modelName), blob);
        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try
        {
            if (!Forget(key, holder)) return;
            if (!_cartridges.Remove(key)) return;
            if (_models.TryGetLoaded(key.Item1, out var model))
                await model.Engine.UnregisterPrefixAsync(PrefixId(blob));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Releases every cartridge <paramref name="holder"/> holds on this silo (its own, and those it composed).</summary>
    public async Task ReleaseHolderAsync(string holder)
    {
        List<(string Model, string Blob)> held;
        lock (_holders) held = [.. _holders.Where(h => h.Value.Contains(holder)).Select(h => h.Key)];
        foreach (var (model, blob) in held) await ReleaseCartridgeAsync(model, blob, holder);
    }

    /// <summary>Who holds a cartridge's tensors on this silo.</summary>
    public IReadOnlyCollection<string> Holders(string modelName, string blob)
    {
        lock (_holders)
            return _holders.TryGetValue((_options.CanonicalModelName(modelName), blob), out var set) ? [.. set] : [];
    }

    // Drops one holder; true when it was the last one.
    bool Forget((string Model, string Blob) key, string holder)
    {
        lock (_holders)
        {
            if (!_holders.TryGetValue(key, out var set) || !set.Remove(holder)) return false;
            if (set.Count > 0) return false;
            _holders.Remove(key);
            _lastUse.Remove(key);
            _evicted.Remove(key);
            return true;
        }
    }

    /// <summary>Bytes of cartridge tensors registered for a blob on this silo (0 when not resident).</summary>
    public long ResidentBytes(string modelName, string? blob) =>
        blob is not null && _cartridges.TryGetLoaded((_options.CanonicalModelName(modelName), blob), out var bytes) ? bytes : 0;

    /// <summary>All tensor bytes held by this silo's engines (weights, cartridges, KV caches).</summary>
    public long TotalResidentBytes => Loaded.Sum(m => m.Engine.Stats.ResidentBytes);

    /// <summary>A per-silo scratch directory for work in progress (durable copies live in the blob store).</summary>
    public string WorkDirectory(string siloName, params string[] parts)
    {
        var dir = Path.Combine([_options.WorkDirectory, Safe(siloName), .. parts.Select(Safe)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The directory name a silo's work goes under (its parsable address with unsafe characters replaced).</summary>
    public static string WorkDirectoryName(string siloName) => Safe(siloName);

    static string Safe(string part) => string.Concat(part.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')).TrimStart('.');

    async Task<LoadedModel> LoadAsync(string name, string location)
    {
        _log.LogInformation("Loading base model {Model} from {Location}", name, location);
        var dir = await ModelLocator.ResolveAsync(location, ct: _stopping.Token);
        var tokenizer = HfTokenizer.Load(dir);
        var engine = await GenerationEngine.LoadAsync(dir, new EngineOptions { MaxBatch = _options.MaxBatch, KvCacheMaxBytes = _options.KvCacheBytes }, _options.Device);
        _log.LogInformation("Base model {Model} loaded: {Bytes} weight bytes", name, engine.Stats.WeightBytes);
        return new LoadedModel(name, dir, engine, tokenizer);
    }

    static async Task<long> RegisterAsync(LoadedModel model, string blob, IBlobStore blobs)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cartridge-{blob}-{Guid.NewGuid():N}.safetensors");
        try
        {
            await blobs.ReadToFileAsync(blob, file);
            long bytes = 0;
            await model.Engine.RegisterPrefixAsync(PrefixId(blob), m =>
            {
                var (cartridge, _) = CartridgeFile.Load(file, m.Config, m.DType, m.Device);
                using (cartridge)
                {
                    var prefix = cartridge.ToServingPrefix();
                    bytes = prefix.Bytes;
                    return prefix;
                }
            });
            return bytes;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping.Cancel();
        foreach (var model in _models.Loaded) model.Engine.Dispose();
        // _stopping is cancelled but not disposed: work winding down may still link to or register on its token.
    }
}
