// The filter in front of every /v1 endpoint: bearer key → tenant (401 otherwise), the tenant's concurrency slot
// (429 otherwise), and the translation of every refusal — ours, the grains', Orleans' — into OpenAI's error JSON.
using Cartridges.Abstractions;
using Cartridges.Silo.Tenants;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Api;

/// <summary>Authenticates the tenant, holds its concurrency slot for the request, and maps errors to OpenAI's shape.</summary>
internal sealed class TenantGate(ITenantStore tenants, TenantConcurrency concurrency, IOptions<ApiOptions> options, ILogger<TenantGate> log,
    IServiceProvider services)
    : IEndpointFilter
{
    const string TenantItem = "cartridges.tenant";

    /// <summary>The tenant authenticated for <paramref name="http"/>.</summary>
    public static TenantInfo Tenant(HttpContext http) => (TenantInfo)http.Items[TenantItem]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            var tenant = await AuthenticateAsync(http);
            http.Items[TenantItem] = tenant;
            var max = tenant.Limits?.MaxConcurrentRequests ?? options.Value.MaxConcurrentRequests;
            using var lease = concurrency.TryEnter(tenant.Name, max);
            if (lease is null)
            {
                http.Response.Headers.RetryAfter = "1";
                throw new ApiError(429, $"Too many concurrent requests for this tenant (limit {max}); retry shortly.", "rate_limit_error", "rate_limit_exceeded");
            }
            return await next(context);
        }
        catch (Exception e) when (!http.Response.HasStarted && Map(e) is { } error)
        {
            if (error.Status >= 500) log.LogWarning(e, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
            // Messages name no server directories (the log above keeps the full exception).
            var body = error.Body();
            if (services.GetService<Grains.Hosting.ServerPaths>() is { } paths) body = body with { Error = body.Error with { Message = paths.Scrub(body.Error.Message) } };
            return Results.Json(body, ApiJson.Options, statusCode: error.Status);
        }
    }

    async ValueTask<TenantInfo> AuthenticateAsync(HttpContext http)
    {
        string header = http.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            if (options.Value.AnonymousTenant is { } anonymous) return new TenantInfo(anonymous, null);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ApiError(401, "No API key provided. Send 'Authorization: Bearer <key>'.", code: "missing_api_key");
        }
        const string scheme = "Bearer ";
        var key = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : "";
        if (key.Length == 0 || await tenants.FindByKeyAsync(key, http.RequestAborted) is not { } tenant)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ApiError(401, "Incorrect API key provided.", code: "invalid_api_key");
        }
        return tenant;
    }

    /// <summary>The OpenAI-shaped error for an exception, or null to let it propagate (client went away).</summary>
    static ApiError? Map(Exception e) => e switch
    {
        ApiError api => api,
        CartridgeException cartridge => ApiError.From(cartridge),
        OperationCanceledException => null,
        _ when RequestBody.IsInvalidUtf8(e) => RequestBody.InvalidUtf8(),
        // The grain call timed out or its silo went away: the cluster, not the request, is at fault.
        TimeoutException or SiloUnavailableException or OrleansMessageRejectionException =>
            new ApiError(503, $"The cluster could not complete the request: {e.Message}", "server_error", "unavailable"),
        _ => new ApiError(500, $"Internal error: {e.Message}", "server_error", "internal_error"),
    };
}
