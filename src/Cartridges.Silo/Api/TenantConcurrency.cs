// Requests in flight per tenant on this silo. Counting per silo (not cluster-wide) keeps the check free of any
// remote call; with N silos behind a load balancer a tenant gets at most N times its limit.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Cartridges.Silo.Api;

/// <summary>Counts each tenant's in-flight requests on this silo and refuses those over its limit.</summary>
public sealed class TenantConcurrency
{
    readonly ConcurrentDictionary<string, StrongBox<int>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>A lease to dispose when the request ends, or null when <paramref name="tenant"/> already has <paramref name="max"/> in flight.</summary>
    public IDisposable? TryEnter(string tenant, int max)
    {
        var box = _inFlight.GetOrAdd(tenant, _ => new StrongBox<int>());
        if (Interlocked.Increment(ref box.Value) > max)
        {
            Interlocked.Decrement(ref box.Value);
            return null;
        }
        return new Lease(box);
    }

    /// <summary>Requests of <paramref name="tenant"/> in flight now.</summary>
    public int InFlight(string tenant) => _inFlight.TryGetValue(tenant, out var box) ? Volatile.Read(ref box.Value) : 0;

    sealed class Lease(StrongBox<int> box) : IDisposable
    {
        int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref box.Value);
        }
    }
}
