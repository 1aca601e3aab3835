// The health endpoints answer with JSON that says why, not only "Healthy"/"Degraded": each check's status and
// description, so an operator (or a probe's log) sees which cartridge needs attention.
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cartridges.Silo.Hosting;

/// <summary>Writes a health report as {"status", "checks": [{"name", "status", "description"}]}.</summary>
internal static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.Select(e => new
            {
                name = e.Key,
                status = e.Value.Status.ToString().ToLowerInvariant(),
                description = e.Value.Description,
            }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web));
    }
}
