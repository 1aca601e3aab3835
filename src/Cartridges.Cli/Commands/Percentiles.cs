namespace Cartridges.Cli.Commands;

/// <summary>Nearest-rank percentiles of benchmark latencies.</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="q"/> quantile (0–1] of <paramref name="values"/>: the smallest value with at least that share at or below it.</summary>
    public static double Of(IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("No values to take a percentile of.", nameof(values));
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
