// The accuracy-vs-memory plot of `bench quality` (the paper's Figure 3 shape): one series per method, x = KV bytes
// per user on a log scale, y = exact-match accuracy.
using ScottPlot;

namespace Cartridges.ProvingGround.Bench;

/// <summary>Writes the PNG plot of quality rows.</summary>
public static class AccuracyPlot
{
    /// <summary>Renders <paramref name="rows"/> to a PNG file at <paramref name="path"/>.</summary>
    public static void Write(IReadOnlyList<QualityRow> rows, string path, int width = 900, int height = 560)
    {
        var plot = new Plot();
        foreach (var group in rows.GroupBy(r => r.Method))
        {
            var ordered = group.OrderBy(r => r.KvBytes).ToArray();
            // ScottPlot has no native log axis: plot log10(KiB) and label the ticks with the real sizes.
            var xs = ordered.Select(r => Math.Log10(Math.Max(1, r.KvBytes / 1024.0))).ToArray();
            var ys = ordered.Select(r => r.Accuracy * 100).ToArray();
            var series = plot.Add.Scatter(xs, ys);
            series.LegendText = group.Key;
            series.MarkerSize = 9;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = x => $"{Math.Pow(10, x):0.#} KiB",
        };
        plot.Axes.Bottom.Label.Text = "KV cache per user (log scale)";
        plot.Axes.Left.Label.Text = "exact-match accuracy (%)";
        plot.Axes.SetLimitsY(-2, 102);
        plot.Title("Records QA: accuracy vs KV memory");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, width, height);
    }
}
