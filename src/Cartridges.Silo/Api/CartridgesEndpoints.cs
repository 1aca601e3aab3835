// /v1/cartridges: create (JSON or multipart), start, stop, get, list, delete. Every cartridge is addressed as
// "{tenant}/{name}" with the tenant taken from the API key, so one tenant's requests can only ever reach its own
// grains; a name that exists for another tenant is simply a different, non-existent grain here → 404.
using System.Text.Json;
using System.Text.Json.Serialization;
using Cartridges.Abstractions;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Api;

/// <summary>The cartridge management endpoints.</summary>
internal static class CartridgesEndpoints
{
    /// <summary>Like <see cref="ApiJson.Options"/> but refusing unknown fields, so a misspelt budget knob is a 400, not silently ignored.</summary>
    public static readonly JsonSerializerOptions StrictJson = new(ApiJson.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    public static async Task<IResult> CreateAsync(HttpContext http, IGrainFactory grains, IOptions<ApiOptions> api, IOptions<Grains.Hosting.CartridgesOptions> silo)
    {
        var tenant = TenantGate.Tenant(http);
        var max = api.Value.MaxCreateBodyBytes;
        CreateCartridgeRequest request;
        string corpus;
        byte[]? trained = null;
        if (CartridgeUpload.IsMultipart(http.Request))
        {
            (request, corpus, trained) = await CartridgeUpload.ReadAsync(http, max);
        }
        else
        {
            request = await RequestBody.ReadJsonAsync<CreateCartridgeRequest>(http, max, StrictJson);
            corpus = request.Corpus ?? "";
        }
        var name = ValidName(request.Name, "name");
        var spec = request.ToSpec(corpus);
        // Everything checkable here is checked before anything is stored or counted.
        if (spec.Problem() is { } problem) throw ApiError.BadRequest(problem, corpus.Length == 0 ? "corpus" : null);
        if (silo.Value.Limits.Tighten(tenant.Limits?.Budgets).Problem(spec) is { } over) throw ApiError.BadRequest(over.Message, over.Field, "limit_exceeded");

        var quota = new TenantQuota(tenant.Limits?.MaxCartridges ?? api.Value.MaxCartridges, tenant.Limits?.MaxCorpusBytes ?? api.Value.MaxCorpusBytes);
        var corpusBytes = (long)System.Text.Encoding.UTF8.GetByteCount(corpus);
        var index = grains.GetGrain<ITenantGrain>(tenant.Name);
        var reservation = await index.ReserveAsync(name, corpusBytes, quota);
        if (reservation == TenantReservation.TooManyCartridges)
            throw new ApiError(429, $"This tenant already holds its limit of {quota.MaxCartridges} cartridges; delete one first.", "insufficient_quota", "cartridge_quota_exceeded");
        if (reservation == TenantReservation.CorpusQuotaExceeded)
            throw new ApiError(413, $"This corpus ({corpusBytes} bytes) would take the tenant over its corpus quota of {quota.MaxCorpusBytes} bytes.", "insufficient_quota", "corpus_quota_exceeded", "corpus");

        var grain = grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of(tenant.Name, name));
        CartridgeStatus status;
        try
        {
            // A trained file (multipart "cartridge") is checked against the base model and served at once.
            status = trained is null ? await grain.CreateAsync(spec) : await grain.ImportAsync(spec, trained);
        }
        catch when (reservation == TenantReservation.Reserved)
        {
            await index.ReleaseAsync(name); // nothing was created: give the quota back
            throw;
        }
        if (request.Start == true && trained is null) status = await grain.StartAsync();
        return Results.Json(CartridgeDto.From(name, status), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    public static async Task<IResult> StartAsync(HttpContext http, string name, IGrainFactory grains)
    {
        var status = await Grain(http, name, grains).StartAsync();
        return Results.Json(CartridgeDto.From(name, status), ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    public static async Task<IResult> StopAsync(HttpContext http, string name, IGrainFactory grains)
    {
        var status = await Grain(http, name, grains).StopAsync();
        return Results.Json(CartridgeDto.From(name, status), ApiJson.Options);
    }

    public static async Task<IResult> GetAsync(HttpContext http, string name, IGrainFactory grains)
    {
        var status = await Grain(http, name, grains).GetStatusAsync();
        if (status.State == CartridgeState.None) throw ApiError.CartridgeNotFound(name);
        return Results.Json(CartridgeDto.From(name, status), ApiJson.Options);
    }

    public static async Task<IResult> ListAsync(HttpContext http, IGrainFactory grains) =>
        Results.Json(new ListDto<CartridgeDto>(await ListStatusesAsync(grains, TenantGate.Tenant(http).Name)), ApiJson.Options);

    public static async Task<IResult> DeleteAsync(HttpContext http, string name, IGrainFactory grains)
    {
        var tenant = TenantGate.Tenant(http).Name;
        try
        {
            await Grain(http, name, grains).DeleteAsync();
        }
        catch (CartridgeException e) when (e.Code == CartridgeException.NotFound)
        {
            await grains.GetGrain<ITenantGrain>(tenant).ReleaseAsync(name); // a stale index entry goes too
            throw ApiError.CartridgeNotFound(name);
        }
        await grains.GetGrain<ITenantGrain>(tenant).ReleaseAsync(name);
        return Results.Json(new DeletedDto(name), ApiJson.Options);
    }

    /// <summary>The tenant's cartridges with their statuses (entries whose grain no longer exists are left out).</summary>
    public static async Task<IReadOnlyList<CartridgeDto>> ListStatusesAsync(IGrainFactory grains, string tenant)
    {
        var names = await grains.GetGrain<ITenantGrain>(tenant).ListAsync();
        var statuses = await Task.WhenAll(names.Select(n => grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of(tenant, n)).GetStatusAsync()));
        return [.. names.Zip(statuses).Where(p => p.Second.State != CartridgeState.None).Select(p => CartridgeDto.From(p.First, p.Second))];
    }

    static ICartridgeGrain Grain(HttpContext http, string name, IGrainFactory grains) =>
        grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of(TenantGate.Tenant(http).Name, ValidName(name, "name")));

    static string ValidName(string? name, string param) =>
        CartridgeKey.Problem(name, "cartridge name") is { } problem ? throw ApiError.BadRequest(problem, param, "invalid_cartridge_name") : name!;
}
