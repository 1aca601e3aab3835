// "Recent throughput" for operators: tokens a cartridge produced over the last minute, per second. A lifetime
// average would hide that a cartridge went quiet an hour ago; an instantaneous one jumps with every answer.
namespace Cartridges.Grains.Cartridge;

/// <summary>Tokens per second over a sliding window (grain-local: one caller at a time).</summary>
public sealed class RecentRate(TimeSpan window)
{
    readonly Queue<(DateTime At, long Tokens)> _events = new();
    long _sum;

    /// <summary>Records <paramref name="tokens"/> produced at <paramref name="at"/> (UTC).</summary>
    public void Add(long tokens, DateTime at)
    {
        _events.Enqueue((at, tokens));
        _sum += tokens;
        Trim(at);
    }

    /// <summary>Tokens per second over the window ending at <paramref name="now"/> (UTC).</summary>
    public double PerSecond(DateTime now)
    {
        Trim(now);
        return _sum / window.TotalSeconds;
    }

    void Trim(DateTime now)
    {
        while (_events.Count > 0 && now - _events.Peek().At > window) _sum -= _events.Dequeue().Tokens;
    }
}
