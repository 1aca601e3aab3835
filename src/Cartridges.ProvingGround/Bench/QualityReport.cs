// Output of `bench quality`: a markdown table (accuracy also as a share of in-context accuracy, KV memory also as
// a ratio to in-context), the JSON file whose shape the issue fixes, and the headline check at p = n/8.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cartridges.ProvingGround.Bench;

/// <summary>Renders and writes quality rows.</summary>
public static class QualityReport
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The JSON document: {"rows": [...], plus the settings that produced them}.</summary>
    public static string Json(IReadOnlyList<QualityRow> rows, string model, QualityBenchOptions options) =>
        JsonSerializer.Serialize(new
        {
            rows,
            model,
            users = options.Users,
            documents = options.Documents,
            questions_per_document = options.QuestionsPerDocument,
            conversations = options.Conversations,
            steps = options.Steps,
            batch_size = options.BatchSize,
            lr = options.LearningRate,
            seed = options.Seed,
        }, Indented);

    /// <summary>A markdown table with one line per row.</summary>
    public static string Markdown(IReadOnlyList<QualityRow> rows, int users)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| method | n | p (KV tokens) | accuracy | vs ICL accuracy | KV per user | ICL KV / method KV | decode tok/s ({users} users) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var icl = rows.FirstOrDefault(x => x.Method == "icl" && x.N == r.N);
            var share = icl is { Accuracy: > 0 } ? $"{r.Accuracy / icl.Accuracy * 100:F0}%" : "–";
            var memory = icl is null ? "–" : $"{(double)icl.KvBytes / r.KvBytes:F1}×";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Method} | {r.N} | {r.P} | {r.Accuracy * 100:F1}% ({r.Questions}) | {share} | {r.KvBytes / 1024.0:F0} KiB | {memory} | {r.TokensPerSecond:F1} |");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The headline at p = n/8 for each n: cartridge accuracy as a share of ICL, its lead over truncation and
    /// over next-token training in points, and the KV ratio.
    /// </summary>
    public static IEnumerable<string> Headline(IReadOnlyList<QualityRow> rows)
    {
        foreach (var icl in rows.Where(r => r.Method == "icl"))
        {
            var p = icl.N / 8;
            var c = rows.FirstOrDefault(r => r.Method == "cartridge" && r.N == icl.N && r.P == p);
            // Truncation rows carry their real KV length; the one measured for this p precedes its cartridge rows.
            var t = rows.Take(c is null ? 0 : rows.ToList().IndexOf(c)).LastOrDefault(r => r.Method == "truncation" && r.N == icl.N);
            var ntp = rows.FirstOrDefault(r => r.Method == "ntp" && r.N == icl.N && r.P == p);
            if (c is null) continue;
            var share = icl.Accuracy > 0 ? c.Accuracy / icl.Accuracy * 100 : 0;
            var line = FormattableString.Invariant($"n={icl.N}, p=n/8={p}: cartridge {c.Accuracy * 100:F1}% = {share:F0}% of ICL ({icl.Accuracy * 100:F1}%)");
            if (t is not null) line += FormattableString.Invariant($", {(c.Accuracy - t.Accuracy) * 100:+0.0;-0.0} points vs truncation");
            if (ntp is not null) line += FormattableString.Invariant($", {(c.Accuracy - ntp.Accuracy) * 100:+0.0;-0.0} points vs next-token training");
            yield return line + FormattableString.Invariant($", KV {(double)icl.KvBytes / c.KvBytes:F1}× smaller than ICL");
        }
    }
}
