// The Orleans dashboard shows every silo and grain, and its grain-state view invokes grain methods reflectively,
// so it must not be open to API tenants; /metrics (every tenant's traffic) is guarded the same way. With Cartridges:Dashboard:AdminKey set it asks for that key (HTTP Basic,
// any user name, so browsers can log in; or a Bearer header); without a key it answers only loopback requests.
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Cartridges.Silo.Hosting;

/// <summary>Middleware guarding <c>/dashboard</c> and <c>/metrics</c> with the admin key.</summary>
internal static class DashboardGuard
{
    public const string Path = "/dashboard";

    public static WebApplication UseDashboardGuard(this WebApplication app)
    {
        var key = app.Configuration["Cartridges:Dashboard:AdminKey"];
        var expected = key is { Length: > 0 } ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(Path) && !context.Request.Path.StartsWithSegments(TelemetryExtensions.MetricsPath))
            {
                await next();
                return;
            }
            if (expected is null)
            {
                if (context.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip))
                {
                    await next();
                    return;
                }
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("The dashboard is only served to localhost until Cartridges:Dashboard:AdminKey is set.");
                return;
            }
            if (Presented(context.Request) is { } given && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected))
            {
                await next();
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"cartridges dashboard\"";
            await context.Response.WriteAsync("The dashboard needs the admin key (HTTP Basic password, any user name).");
        });
        return app;
    }

    static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':');
            return colon < 0 ? null : decoded[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
