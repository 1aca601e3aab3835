// The operators' page beside the Orleans dashboard: every cartridge of every tenant with its state, progress, silo,
// resident bytes and recent throughput — what the stock dashboard cannot show, since it knows grains, not cartridges.
// It sits under /dashboard, so the dashboard's admin key guards it too; /dashboard/cartridges.json is the same for scripts.
using System.Globalization;
using System.Net;
using System.Text;
using Cartridges.Abstractions;
using Cartridges.Silo.Api;
using Cartridges.Silo.Tenants;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Hosting;

/// <summary>One row of the cartridges view.</summary>
public sealed record CartridgeRow(string Tenant, string Name, string State, double Progress, int Step, int TotalSteps, double? Loss,
    double? EtaSeconds, string? Silo, long ResidentBytes, double? TokensPerSecond, string? Error);

/// <summary>Maps the cartridges view (HTML and JSON) under the dashboard's path.</summary>
internal static class CartridgesView
{
    public const string Page = DashboardGuard.Path + "/cartridges";

    public static WebApplication MapCartridgesView(this WebApplication app)
    {
        app.MapGet(Page + ".json", async (ITenantStore tenants, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken ct) =>
            Results.Json(new { data = await RowsAsync(tenants, grains, api.Value.AnonymousTenant, ct) }, ApiJson.Options));
        app.MapGet(Page, async (ITenantStore tenants, IGrainFactory grains, IOptions<ApiOptions> api, CancellationToken ct) =>
            Results.Content(Html(await RowsAsync(tenants, grains, api.Value.AnonymousTenant, ct), DateTimeOffset.UtcNow), "text/html; charset=utf-8"));
        return app;
    }

    /// <summary>Every cartridge of every tenant (those with keys, and the keyless one when configured), by tenant and name.</summary>
    public static async Task<IReadOnlyList<CartridgeRow>> RowsAsync(ITenantStore tenants, IGrainFactory grains, string? anonymousTenant, CancellationToken ct)
    {
        var rows = new List<CartridgeRow>();
        var names = (await tenants.ListAsync(ct)).Select(t => t.Name);
        if (anonymousTenant is not null) names = names.Append(anonymousTenant);
        foreach (var tenant in names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var cartridges = await grains.GetGrain<ITenantGrain>(tenant).ListAsync();
            var statuses = await Task.WhenAll(cartridges.Select(n => grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of(tenant, n)).GetStatusAsync()));
            foreach (var (name, s) in cartridges.Zip(statuses).OrderBy(p => p.First, StringComparer.Ordinal))
            {
                if (s.State == CartridgeState.None) continue; // reserved but never created, or deleted meanwhile
                rows.Add(new CartridgeRow(tenant, name, CartridgeDto.StateName(s.State), s.Progress, s.Step, s.TotalSteps, s.Loss,
                    s.Eta?.TotalSeconds, s.Silo, s.ResidentBytes, s.TokensPerSecond, s.Error));
            }
        }
        return rows;
    }

    /// <summary>The page: a table that refreshes itself every five seconds.</summary>
    public static string Html(IReadOnlyList<CartridgeRow> rows, DateTimeOffset at)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
            <title>Cartridges</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:24px;color:#1d2330}
            h1{font-size:20px;margin:0 0 4px} p.sub{color:#667;margin:0 0 16px}
            table{border-collapse:collapse;width:100%;font-size:14px}
            th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e3e6ec} th{background:#f4f6f9}
            td.num{text-align:right;font-variant-numeric:tabular-nums}
            .bar{background:#e3e6ec;border-radius:3px;width:120px;height:10px;display:inline-block;vertical-align:middle}
            .bar i{display:block;height:10px;border-radius:3px;background:#3b7ddd}
            .serving{color:#16794c;font-weight:600} .failed{color:#b3261e;font-weight:600} .training,.generating{color:#8a5a00;font-weight:600}
            </style></head><body>
            <h1>Cartridges</h1>
            """);
        var byState = string.Join(", ", rows.GroupBy(r => r.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"sub\">{rows.Count} cartridge(s){(byState.Length > 0 ? $" ({E(byState)})" : "")} across {rows.Select(r => r.Tenant).Distinct().Count()} tenant(s) · " +
                    $"{F(rows.Sum(r => r.ResidentBytes) / 1048576.0, "F1")} MiB resident · {E(at.ToString("u", CultureInfo.InvariantCulture))} · " +
                    $"<a href=\"{DashboardGuard.Path}\">Orleans dashboard</a> · <a href=\"{Page}.json\">JSON</a></p>");
        html.Append("<table><thead><tr><th>tenant</th><th>cartridge</th><th>state</th><th>progress</th><th>step</th><th>loss</th>" +
                    "<th>time left</th><th>silo</th><th>resident</th><th>tokens/s</th><th>error</th></tr></thead><tbody>");
        foreach (var r in rows)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(r.Tenant)}</td><td>{E(r.Name)}</td><td class=\"{E(r.State)}\">{E(r.State)}</td>" +
                $"<td><span class=\"bar\"><i style=\"width:{F(Math.Clamp(r.Progress, 0, 1) * 100, "F0")}%\"></i></span> {F(r.Progress * 100, "F0")}%</td>" +
                $"<td class=\"num\">{r.Step}/{r.TotalSteps}</td><td class=\"num\">{(r.Loss is { } l ? F(l, "F4") : "")}</td>" +
                $"<td class=\"num\">{(r.EtaSeconds is { } eta ? F(eta, "F0") + " s" : "")}</td><td>{E(r.Silo)}</td>" +
                $"<td class=\"num\">{(r.ResidentBytes > 0 ? F(r.ResidentBytes / 1024.0, "F0") + " KiB" : "")}</td>" +
                $"<td class=\"num\">{(r.TokensPerSecond is { } tps ? F(tps, "F1") : "")}</td><td>{E(r.Error)}</td></tr>");
        }
        if (rows.Count == 0) html.Append("<tr><td colspan=\"11\">No cartridges yet.</td></tr>");
        html.Append("</tbody></table></body></html>");
        return html.ToString();
    }
}
