using System.Diagnostics;
using Spectre.Console;

namespace Cartridges.Cli.Commands;

/// <summary>Live progress bars on a terminal; one line per second per phase when output is redirected.</summary>
internal static class ProgressDisplay
{
    public static async Task<T> RunAsync<T>(Func<IProgress<(string Phase, double Fraction, string Detail)>, Task<T>> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await AnsiConsole.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    var tasks = new Dictionary<string, ProgressTask>();
                    var progress = new Progress<(string Phase, double Fraction, string Detail)>(p =>
                    {
                        if (!tasks.TryGetValue(p.Phase, out var task)) tasks[p.Phase] = task = ctx.AddTask(p.Phase, maxValue: 1.0);
                        task.Value = Math.Clamp(p.Fraction, 0, 1);
                        task.Description = $"{p.Phase}: {Markup.Escape(p.Detail)}";
                    });
                    return await work(progress);
                });
        }
        var last = new Dictionary<string, long>();
        var plain = new Progress<(string Phase, double Fraction, string Detail)>(p =>
        {
            var now = Stopwatch.GetTimestamp();
            if (last.TryGetValue(p.Phase, out var t) && Stopwatch.GetElapsedTime(t, now) < TimeSpan.FromSeconds(1) && p.Fraction < 1) return;
            last[p.Phase] = now;
            Console.Error.WriteLine($"[{p.Phase} {p.Fraction:P0}] {p.Detail}");
        });
        return await work(plain);
    }
}
