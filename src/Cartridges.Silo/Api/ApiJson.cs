// OpenAI's wire format is snake_case; nulls are written (OpenAI sends "finish_reason": null etc.) except where a DTO
// says otherwise, and unknown request fields are ignored on chat requests as OpenAI clients send many optional ones.
using System.Text.Json;

namespace Cartridges.Silo.Api;

/// <summary>JSON settings of the HTTP API.</summary>
public static class ApiJson
{
    /// <summary>snake_case, case-insensitive reading.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
