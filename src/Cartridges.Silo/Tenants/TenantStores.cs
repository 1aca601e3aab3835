// The one place that decides which tenant store a configuration means, so the silo and the CLI agree.
using Cartridges.Grains.Hosting;
using Cartridges.Silo.Api;
using Microsoft.Extensions.Configuration;

namespace Cartridges.Silo.Tenants;

/// <summary>Chooses the tenant store for a configuration: PostgreSQL under the Postgres profile, else a JSON file.</summary>
public static class TenantStores
{
    /// <summary>The tenants file of a data directory.</summary>
    public static string DefaultFile(string dataDirectory) => Path.Combine(dataDirectory, "tenants.json");

    /// <summary>The store named by <c>Cartridges:Profile</c>, <c>Cartridges:Api:TenantsFile</c> and <c>Cartridges:DataDirectory</c>.</summary>
    public static ITenantStore Create(IConfiguration configuration)
    {
        if (configuration[$"{ApiOptions.Section}:TenantsFile"] is { Length: > 0 } file) return new FileTenantStore(file);
        if ((configuration["Cartridges:Profile"] ?? "Local") == "Postgres")
            return new PostgresTenantStore(configuration.GetConnectionString("Postgres")
                ?? throw new InvalidOperationException("The Postgres profile needs ConnectionStrings:Postgres (env ConnectionStrings__Postgres)."));
        var dataDir = SiloPaths.DataDirectory(configuration);
        return new FileTenantStore(DefaultFile(dataDir));
    }
}
