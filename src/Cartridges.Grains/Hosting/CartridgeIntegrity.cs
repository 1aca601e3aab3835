// Cartridges on this silo whose stored data failed verification. Kept apart from the grain state so that readiness
// can report them without activating any grain; an entry goes when the cartridge is started again or deleted.
using System.Collections.Concurrent;

namespace Cartridges.Grains.Hosting;

/// <summary>The silo's record of cartridges with missing or corrupt blobs.</summary>
public sealed class CartridgeIntegrity
{
    readonly ConcurrentDictionary<string, string> _broken = new(StringComparer.Ordinal);

    /// <summary>Records that <paramref name="key"/> failed verification with <paramref name="error"/>.</summary>
    public void Report(string key, string error) => _broken[key] = error;

    /// <summary>Forgets <paramref name="key"/> (started again, rebuilt or deleted).</summary>
    public void Clear(string key) => _broken.TryRemove(key, out _);

    /// <summary>The cartridges with broken data and why, sorted by key.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Broken => [.. _broken.OrderBy(kv => kv.Key, StringComparer.Ordinal)];
}
