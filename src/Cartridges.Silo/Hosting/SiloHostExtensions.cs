// Shared by Program.cs and the tests that start real silo hosts.
using System.Net;
using Cartridges.Grains.Hosting;
using Cartridges.Silo.Api;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace Cartridges.Silo.Hosting;

/// <summary>Builds the silo host from configuration: clustering per profile, cartridge grains, dashboard, health.</summary>
public static class SiloHostExtensions
{
    /// <summary>Configures Orleans (profile Local or Postgres), the cartridge services and the dashboard.</summary>
    public static WebApplicationBuilder AddCartridgesSilo(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        QuietFrameworkLogs(builder);
        builder.UseOrleans(silo =>
        {
            var profile = config["Cartridges:Profile"] ?? "Local";
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = config["Orleans:ClusterId"] ?? "cartridges";
                o.ServiceId = config["Orleans:ServiceId"] ?? "cartridges";
            });
            if (profile == "Local")
            {
                silo.UseLocalhostClustering(
                    siloPort: config.GetValue("Orleans:SiloPort", 11111),
                    gatewayPort: config.GetValue("Orleans:GatewayPort", 30000),
                    primarySiloEndpoint: config["Orleans:PrimarySilo"] is { } primary ? IPEndPoint.Parse(primary) : null);
            }
            else if (Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 })
            {
                // In Kubernetes: cluster identity from the pod labels, endpoints from POD_IP, dead pods removed
                // from membership as soon as Kubernetes reports them (needs the RBAC in k8s/rbac.yaml).
                silo.UseKubernetesHosting();
            }
            else
            {
                silo.ConfigureEndpoints(
                    siloPort: config.GetValue("Orleans:SiloPort", 11111),
                    gatewayPort: config.GetValue("Orleans:GatewayPort", 30000),
                    listenOnAnyHostAddress: true);
            }
            silo.AddCartridges(config);
            silo.AddDashboard();
            // Grain calls join the HTTP request's trace when traces are collected.
            if (TelemetryExtensions.OtlpConfigured(config)) silo.AddActivityPropagation();
        });
        builder.AddCartridgesTelemetry();
        builder.Services.AddSingleton<ModelPreloader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelPreloader>());
        builder.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("silo").AddCheck<ModelsHealthCheck>("models")
            .AddCheck<CartridgeIntegrityHealthCheck>("cartridges");
        builder.AddCartridgesApi();
        return builder;
    }

    /// <summary>
    /// Framework categories log at Warning unless configuration names a level for them (Logging:LogLevel:Orleans=Information
    /// brings Orleans' startup dumps back; Microsoft.AspNetCore=Information logs every request): an operator's log
    /// shows this system's own lines and real problems, not options dumps and per-request chatter.
    /// </summary>
    static void QuietFrameworkLogs(WebApplicationBuilder builder)
    {
        foreach (var category in new[] { "Orleans", "Microsoft", "Polly", "System.Net.Http" })
        {
            if (builder.Configuration[$"Logging:LogLevel:{category}"] is null) builder.Logging.AddFilter(category, LogLevel.Warning);
        }
        // The silo's start and stop lines stay.
        if (builder.Configuration["Logging:LogLevel:Microsoft.Hosting.Lifetime"] is null) builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
    }

    /// <summary>Maps health endpoints, the dashboard and /metrics.</summary>
    public static WebApplication MapCartridgesEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync });
        app.UseDashboardGuard();
        app.MapCartridgesView();
        app.MapOrleansDashboard(routePrefix: DashboardGuard.Path);
        app.MapPrometheusScrapingEndpoint(TelemetryExtensions.MetricsPath);
        app.MapCartridgesApi();
        return app;
    }
}

/// <summary>Ready when the silo is an active cluster member.</summary>
internal sealed class SiloHealthCheck(ILocalSiloDetails silo, IClusterMembershipService membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {silo.SiloAddress} is active")
            : HealthCheckResult.Unhealthy($"silo {silo.SiloAddress} is {status}"));
    }
}
