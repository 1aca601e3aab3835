// Readiness waits for the base models: a silo that is still reading weights (or downloading them) is alive but
// cannot answer, and one whose model failed to load never will.
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cartridges.Silo.Hosting;

/// <summary>Unhealthy until <see cref="ModelPreloader"/> has loaded this silo's base models.</summary>
internal sealed class ModelsHealthCheck(ModelPreloader preloader) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(preloader.Loaded.IsCompletedSuccessfully
            ? HealthCheckResult.Healthy(preloader.State)
            : HealthCheckResult.Unhealthy(preloader.State));
}
