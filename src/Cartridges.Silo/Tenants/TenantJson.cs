using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cartridges.Silo.Tenants;

/// <summary>JSON settings of stored tenant data (snake_case, nulls omitted), shared by the file and PostgreSQL stores.</summary>
internal static class TenantJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };
}
