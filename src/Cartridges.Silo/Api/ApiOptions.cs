// Bound from "Cartridges:Api" (appsettings or Cartridges__Api__* environment variables).
namespace Cartridges.Silo.Api;

/// <summary>Settings of the OpenAI-compatible HTTP API: tenant store location and default per-tenant limits.</summary>
public sealed class ApiOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Cartridges:Api";

    /// <summary>The tenants file (Local profile; default <c>{DataDirectory}/tenants.json</c>). Set it to use a file under the Postgres profile too.</summary>
    public string? TenantsFile { get; set; }

    /// <summary>When set, requests without an Authorization header act as this tenant (single-user local serving).</summary>
    public string? AnonymousTenant { get; set; }

    /// <summary>Default most cartridges per tenant.</summary>
    public int MaxCartridges { get; set; } = 100;

    /// <summary>Default most corpus bytes per tenant, summed over its cartridges.</summary>
    public long MaxCorpusBytes { get; set; } = 256L << 20;

    /// <summary>Default most requests per tenant in flight at once on one silo.</summary>
    public int MaxConcurrentRequests { get; set; } = 64;

    /// <summary>Largest body of POST /v1/cartridges (JSON or multipart), in bytes.</summary>
    public long MaxCreateBodyBytes { get; set; } = 64L << 20;

    /// <summary>Largest body of the other endpoints (chat completions), in bytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4L << 20;

    /// <summary>max_tokens when a chat request gives none.</summary>
    public int DefaultMaxTokens { get; set; } = 256;
}
