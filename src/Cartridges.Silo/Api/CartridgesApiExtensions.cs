// Design decision: the API lives in the silo host process. Every silo serves HTTP and calls grains through its own
// IGrainFactory, so any silo can take any request (Orleans routes the call to the silo holding the cartridge) and
// there is no separate gateway to deploy, scale or keep in sync; a load balancer in front of the silos is all a
// cluster needs. CPU-only silos (gpu=false) make natural HTTP front ends, as cartridge grains are never placed there.
using Cartridges.Abstractions;
using Cartridges.Silo.Tenants;

namespace Cartridges.Silo.Api;

/// <summary>Registers and maps the OpenAI-compatible HTTP API (/v1) with API-key tenants.</summary>
public static class CartridgesApiExtensions
{
    /// <summary>Adds the tenant store (file or PostgreSQL per profile), the per-tenant concurrency counter and the API options.</summary>
    public static WebApplicationBuilder AddCartridgesApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section))
            .Validate(o => o.AnonymousTenant is null || CartridgeKey.Problem(o.AnonymousTenant, "tenant") is null,
                $"{ApiOptions.Section}:AnonymousTenant must be a valid tenant name (lowercase letters, digits, '-', '_').")
            .ValidateOnStart();
        builder.Services.AddSingleton(TenantStores.Create(builder.Configuration));
        builder.Services.AddSingleton<TenantConcurrency>();
        builder.Services.AddSingleton<TenantGate>();
        builder.Services.AddSingleton<TokenizerCache>();
        return builder;
    }

    /// <summary>Maps /v1/chat/completions, /v1/models and /v1/cartridges behind API-key authentication.</summary>
    public static IEndpointRouteBuilder MapCartridgesApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").AddEndpointFilter<TenantGate>();
        v1.MapPost("/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        v1.MapGet("/models", ModelsEndpoint.ListAsync);
        v1.MapPost("/cartridges", CartridgesEndpoints.CreateAsync);
        v1.MapGet("/cartridges", CartridgesEndpoints.ListAsync);
        v1.MapGet("/cartridges/{name}", CartridgesEndpoints.GetAsync);
        v1.MapPost("/cartridges/{name}/start", CartridgesEndpoints.StartAsync);
        v1.MapPost("/cartridges/{name}/stop", CartridgesEndpoints.StopAsync);
        v1.MapDelete("/cartridges/{name}", CartridgesEndpoints.DeleteAsync);
        // vLLM serves these at the root, not under /v1; the same tenant keys apply.
        var root = app.MapGroup("").AddEndpointFilter<TenantGate>();
        root.MapPost("/tokenize", TokenizeEndpoints.TokenizeAsync);
        root.MapPost("/detokenize", TokenizeEndpoints.DetokenizeAsync);
        // Unknown /v1 paths (incl. encoded separators in a name) answer in OpenAI's error shape too, not an empty 404.
        v1.MapFallback("{**path}", static IResult (HttpContext http) =>
            throw new ApiError(404, $"Unknown API route: {http.Request.Method} {http.Request.Path}.", code: "unknown_url"));
        return app;
    }
}
