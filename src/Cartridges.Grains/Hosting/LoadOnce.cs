// Models, tokenizers and cartridge tensors are loaded once per key and shared by every caller, but a failed load must
// not stick: the model directory may have been fixed or the blob store come back, so the next caller tries again.
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Cartridges.Grains.Hosting;

/// <summary>One shared load per key; failures are forgotten so the next caller retries.</summary>
public sealed class LoadOnce<TKey, TValue>(IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    readonly ConcurrentDictionary<TKey, Lazy<Task<TValue>>> _entries = new(comparer);

    /// <summary>The value of <paramref name="key"/>, loading it with <paramref name="load"/> if no caller has yet.</summary>
    public async Task<TValue> GetAsync(TKey key, Func<TKey, Task<TValue>> load, CancellationToken ct = default)
    {
        var lazy = _entries.GetOrAdd(key, k => new Lazy<Task<TValue>>(() => load(k)));
        try
        {
            return await lazy.Value.WaitAsync(ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            _entries.TryRemove(new(key, lazy));
            throw;
        }
    }

    /// <summary>The value of <paramref name="key"/> if it has finished loading.</summary>
    public bool TryGetLoaded(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_entries.TryGetValue(key, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
        {
            value = lazy.Value.Result;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>Every value that has finished loading.</summary>
    public IEnumerable<TValue> Loaded =>
        _entries.Values.Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result);

    /// <summary>Every key whose value has finished loading, with its value.</summary>
    public IEnumerable<KeyValuePair<TKey, TValue>> LoadedEntries =>
        _entries.Where(e => e.Value.IsValueCreated && e.Value.Value.IsCompletedSuccessfully).Select(e => KeyValuePair.Create(e.Key, e.Value.Value.Result));

    /// <summary>Forgets <paramref name="key"/> (loaded or not); false if it was not there.</summary>
    public bool Remove(TKey key) => _entries.TryRemove(key, out _);
}
