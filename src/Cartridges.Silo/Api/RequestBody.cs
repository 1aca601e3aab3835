// Request bodies are read by hand rather than by minimal-API binding so that size limits (413) and malformed JSON
// (400) come back in OpenAI's error shape instead of ASP.NET's problem details.
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Cartridges.Silo.Api;

/// <summary>Size-limited JSON and form reading with OpenAI-shaped errors.</summary>
internal static class RequestBody
{
    /// <summary>Caps the request body at <paramref name="maxBytes"/>: refuses a larger Content-Length at once, and lets Kestrel stop a chunked body that grows past it.</summary>
    public static void Limit(HttpContext http, long maxBytes)
    {
        if (http.Request.ContentLength > maxBytes) throw TooLarge(maxBytes);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = maxBytes;
    }

    /// <summary>Reads a JSON body of at most <paramref name="maxBytes"/> as <typeparamref name="T"/>.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpContext http, long maxBytes, JsonSerializerOptions options) where T : class
    {
        Limit(http, maxBytes);
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(http.Request.Body, options, http.RequestAborted)
                ?? throw ApiError.BadRequest("The request body is empty; send a JSON object.");
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"The request body is not valid JSON for this endpoint: {e.Message}", e.Path is { Length: > 2 } p ? p[2..] : null, "invalid_json");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxBytes);
        }
    }

    /// <summary>The 413 error for a body over <paramref name="maxBytes"/>.</summary>
    public static ApiError TooLarge(long maxBytes) =>
        new(413, $"The request body is larger than this endpoint accepts ({maxBytes} bytes).", code: "request_too_large");
}
