// What `status --watch` and `--wait` draw for a cartridge: the generating bar counts shards, the training bar
// optimizer steps, and the time left is the server's estimate (it knows the measured step time; the client would only
// guess from how fast a blended percentage moved).
using Cartridges.Silo.Api;
using Spectre.Console;

namespace Cartridges.Cli.Commands;

/// <summary>The per-phase progress bars of a watched cartridge.</summary>
internal static class WatchView
{
    /// <summary>Whether a cartridge in <paramref name="state"/> has stopped moving (nothing more to watch).</summary>
    public static bool Settled(string state) => state is "serving" or "failed" or "stopped" or "untrained";

    /// <summary>Sets both bars from the cartridge as the server reports it.</summary>
    public static void Update(CartridgeDto c, ProgressTask generating, ProgressTask training)
    {
        var (gDone, gTotal, gText) = Generating(c);
        generating.MaxValue = gTotal;
        generating.Value = gDone;
        generating.Description = Markup.Escape($"{c.Name} {gText}");
        var (tDone, tTotal, tText) = Training(c);
        if (c.State is "training" or "serving" && !training.IsStarted) training.StartTask();
        training.MaxValue = tTotal;
        training.Value = tDone;
        training.Description = Markup.Escape($"{c.Name} {tText}");
    }

    /// <summary>The generating bar: shards done of all shards (complete once training began).</summary>
    public static (double Done, double Total, string Text) Generating(CartridgeDto c)
    {
        var total = Math.Max(1, c.ShardsTotal);
        var done = c.State is "training" or "serving" ? total : Math.Min(c.ShardsDone, total);
        return (done, total, $"generating  shards {done}/{(c.ShardsTotal == 0 ? "?" : c.ShardsTotal.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
    }

    /// <summary>The training bar: optimizer steps of all steps, the loss and the server's time left.</summary>
    public static (double Done, double Total, string Text) Training(CartridgeDto c)
    {
        var total = Math.Max(1, c.TotalSteps);
        var done = c.State == "serving" ? total : Math.Min(c.Step, total);
        var text = $"training    step {done}/{c.TotalSteps}";
        if (c.Loss is { } loss) text += $"  loss {loss:F4}";
        if (c.State == "training" && c.EtaSeconds is { } eta) text += $"  {Left(TimeSpan.FromSeconds(eta))} left";
        return (done, total, text);
    }

    static string Left(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:D2}s" : $"{Math.Max(0, t.Seconds)}s";
}
