// OpenTelemetry for the silo host: the engine's latency histograms, the cartridge gauges and ASP.NET Core's request
// metrics, scraped by Prometheus at /metrics (behind the dashboard's admin rule); with OTEL_EXPORTER_OTLP_ENDPOINT set,
// metrics and traces (HTTP requests, Orleans grain calls and the engine's generation spans) also go to that OTLP collector.
using Cartridges.Grains.Hosting;
using Cartridges.Model.Engine;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cartridges.Silo.Hosting;

/// <summary>Metrics and traces of the silo host.</summary>
public static class TelemetryExtensions
{
    /// <summary>The Prometheus scraping path.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>True when an OTLP collector is configured (the standard OTEL_EXPORTER_OTLP_ENDPOINT setting).</summary>
    public static bool OtlpConfigured(IConfiguration config) => !string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>Registers the meters and exporters (Prometheus always, OTLP when configured).</summary>
    public static WebApplicationBuilder AddCartridgesTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = OtlpConfigured(builder.Configuration);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "cartridges-silo"))
            .WithMetrics(m =>
            {
                m.AddMeter(EngineMetrics.MeterName, CartridgeMetrics.MeterName).AddAspNetCoreInstrumentation().AddPrometheusExporter();
                if (otlp) m.AddOtlpExporter();
            });
        // Traces cost an activity per request and grain call: only when something collects them.
        if (otlp)
            telemetry.WithTracing(t => t.AddAspNetCoreInstrumentation().AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", CartridgeTracing.SourceName).AddOtlpExporter());
        return builder;
    }
}
