// The accuracy-vs-memory plot of `bench quality` (the paper's Figure 3 shape): one series per method, x = KV bytes
// per user on a log scale, y = exact-match accuracy; one line per method and document length.
using ScottPlot;

namespace Cartridges.ProvingGround.Bench;

/// <summary>Writes the PNG plot of quality rows.</summary>
public static class AccuracyPlot
{
    /// <summary>Renders <paramref name="rows"/> to a PNG file at <paramref name="path"/>.</summary>
    public static void Write(IReadOnlyList<QualityRow> rows, string path, int width = 900, int height = 560)
    {
        var plot = new Plot();
        var methods = rows.Select(r => r.Method).Distinct().ToList();
        var lengths = rows.Select(r => r.N).Distinct().Order().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        // One line per method and document length (points of different n are not one curve).
        foreach (var group in rows.GroupBy(r => (r.Method, r.N)))
        {
            var ordered = group.OrderBy(r => r.KvBytes).ToArray();
            // ScottPlot has no native log axis: plot log10(KiB) and label the ticks with the real sizes.
            var xs = ordered.Select(r => Math.Log10(Math.Max(1, r.KvBytes / 1024.0))).ToArray();
            var ys = ordered.Select(r => r.Accuracy * 100).ToArray();
            var series = plot.Add.Scatter(xs, ys);
            series.LegendText = lengths.Count > 1 ? $"{group.Key.Method} n={group.Key.N}" : group.Key.Method;
            // Colour = method, line and marker = document length.
            var length = lengths.IndexOf(group.Key.N);
            series.Color = palette.GetColor(methods.IndexOf(group.Key.Method));
            series.LinePattern = length % 2 == 0 ? LinePattern.Solid : LinePattern.Dashed;
            series.MarkerShape = length % 2 == 0 ? MarkerShape.FilledCircle : MarkerShape.FilledSquare;
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
