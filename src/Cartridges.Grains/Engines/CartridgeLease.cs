namespace Cartridges.Grains.Engines;

/// <summary>
/// Keeps a cartridge's registered tensors resident while a request uses them: the residency budget never evicts a
/// leased cartridge. Disposing marks it used now (its place in the least-recently-used order).
/// </summary>
public sealed class CartridgeLease : IDisposable
{
    Action? _release;

    internal CartridgeLease(Action release) => _release = release;

    /// <inheritdoc />
    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}

/// <summary>The leases of one request (a cartridge and those it is composed with), released together.</summary>
public sealed class CartridgeLeases : IDisposable
{
    readonly List<CartridgeLease> _leases = [];

    /// <summary>Adds a lease to release with the others.</summary>
    public void Add(CartridgeLease lease) => _leases.Add(lease);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var lease in _leases) lease.Dispose();
        _leases.Clear();
    }
}
