using Cartridges.Model.Transformer;

namespace Cartridges.Model.Engine;

/// <summary>Registered prefixes (cartridges) by id, with reference counts so a prefix in use is never freed.</summary>
internal sealed class PrefixRegistry : IDisposable
{
    sealed class Entry(KvPrefix prefix)
    {
        public KvPrefix Prefix { get; } = prefix;
        public int Users { get; set; }
        public bool Removed { get; set; }
    }

    readonly Dictionary<string, Entry> _entries = new();

    public long Bytes => _entries.Values.Sum(e => e.Prefix.Bytes);
    public int Count => _entries.Count;
    public IReadOnlyCollection<string> Ids => _entries.Keys;

    public void Add(string id, KvPrefix prefix)
    {
        if (_entries.TryGetValue(id, out var existing))
            throw new InvalidOperationException(existing.Removed
                ? $"Prefix '{id}' was unregistered but is still used by running sequences; retry when they finish."
                : $"A prefix with id '{id}' is already registered.");
        _entries[id] = new Entry(prefix);
    }

    /// <summary>Removes the id; the tensors are freed when the last sequence using them ends.</summary>
    public bool Remove(string id)
    {
        if (!_entries.TryGetValue(id, out var e) || e.Removed) return false;
        e.Removed = true;
        if (e.Users == 0)
        {
            _entries.Remove(id);
            e.Prefix.Dispose();
        }
        return true;
    }

    public bool Contains(string id) => _entries.TryGetValue(id, out var e) && !e.Removed;

    public KvPrefix Get(string id) =>
        _entries.TryGetValue(id, out var e) && !e.Removed ? e.Prefix : throw new KeyNotFoundException($"No prefix registered with id '{id}'.");

    /// <summary>Takes references for a sequence and returns its segments (composition rule applied).</summary>
    public PrefixSegment[] Acquire(IReadOnlyList<string> ids)
    {
        var prefixes = ids.Select(Get).ToArray();
        foreach (var id in ids) _entries[id].Users++;
        return PrefixSegment.Compose(prefixes);
    }

    public void Release(IReadOnlyList<string> ids)
    {
        foreach (var id in ids)
        {
            var e = _entries[id];
            e.Users--;
            if (e.Removed && e.Users == 0)
            {
                _entries.Remove(id);
                e.Prefix.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var e in _entries.Values) e.Prefix.Dispose();
        _entries.Clear();
    }
}
