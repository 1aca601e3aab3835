// GET /v1/models: the silo's base models (Cartridges:Models) and the tenant's serving cartridges as
// "cartridge/<name>" — exactly the values `model` accepts in a chat request.
using Cartridges.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Api;

/// <summary>The OpenAI models list.</summary>
internal static class ModelsEndpoint
{
    public static async Task<IResult> ListAsync(HttpContext http, IGrainFactory grains, IOptions<CartridgesOptions> options)
    {
        var tenant = TenantGate.Tenant(http).Name;
        var models = options.Value.Models.Keys.Order(StringComparer.Ordinal).Select(name => new ModelDto(name, 0, "cartridges")).ToList();
        foreach (var cartridge in await CartridgesEndpoints.ListStatusesAsync(grains, tenant))
            if (cartridge.State == "serving") models.Add(new ModelDto(ChatQuestion.ModelPrefix + cartridge.Name, cartridge.CreatedAt ?? 0, tenant));
        return Results.Json(new ListDto<ModelDto>(models), ApiJson.Options);
    }
}
