// Readiness names the cartridges on this silo whose stored data failed verification. Degraded, not unhealthy: the
// silo still serves every other cartridge, so it must stay in the load balancer; operators see which ones to start.
using Cartridges.Grains.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cartridges.Silo.Hosting;

/// <summary>Degraded while any cartridge on this silo has missing or corrupt blobs.</summary>
internal sealed class CartridgeIntegrityHealthCheck(CartridgeIntegrity integrity) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var broken = integrity.Broken;
        return Task.FromResult(broken.Count == 0
            ? HealthCheckResult.Healthy("every cartridge verified so far is intact")
            : HealthCheckResult.Degraded(
                $"{broken.Count} cartridge(s) with missing or corrupt data: " + string.Join("; ", broken.Select(kv => $"{kv.Key}: {kv.Value}")),
                data: broken.ToDictionary(kv => kv.Key, kv => (object)kv.Value)));
    }
}
