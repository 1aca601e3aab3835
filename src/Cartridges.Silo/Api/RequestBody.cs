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
            var field = e.Path is { Length: > 2 } p ? p[2..] : null;
            throw ApiError.BadRequest($"The request body is not valid JSON for this endpoint: {JsonProblem(e, field)}", field, "invalid_json");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxBytes);
        }
        catch (Exception e) when (IsInvalidUtf8(e))
        {
            throw InvalidUtf8();
        }
    }

    /// <summary>The 400 for a body whose strings are not UTF-8.</summary>
    public static ApiError InvalidUtf8() => ApiError.BadRequest("The request body is not valid UTF-8.", code: "invalid_encoding");

    /// <summary>
    /// Whether <paramref name="e"/> reports bytes that are not UTF-8: the reader reports them as a transcoding failure
    /// (not a JsonException), and only when a string is read, which for JsonElement fields is after deserialization.
    /// </summary>
    public static bool IsInvalidUtf8(Exception e) =>
        e is System.Text.DecoderFallbackException || e.InnerException is System.Text.DecoderFallbackException
        || (e is InvalidOperationException or ArgumentException && e.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase));

    // System.Text.Json's messages name .NET types ("System.Nullable`1[System.Int32]", the request class): say what the
    // client got wrong in the API's own terms instead.
    static string JsonProblem(JsonException e, string? field)
    {
        var message = e.Message;
        var converted = message.IndexOf("could not be converted to ", StringComparison.Ordinal);
        if (converted >= 0 && field is not null)
        {
            var target = message[(converted + "could not be converted to ".Length)..];
            string? expected = target.Contains("Int32", StringComparison.Ordinal) || target.Contains("Int64", StringComparison.Ordinal) || target.Contains("UInt64", StringComparison.Ordinal) ? "an integer"
                : target.Contains("Double", StringComparison.Ordinal) || target.Contains("Single", StringComparison.Ordinal) ? "a number"
                : target.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
                : target.Contains("String", StringComparison.Ordinal) ? "a string"
                : null;
            return expected is null ? $"'{field}' has a value of the wrong type." : $"'{field}' must be {expected}.";
        }
        var unmapped = System.Text.RegularExpressions.Regex.Match(message, "The JSON property '([^']*)' could not be mapped");
        if (unmapped.Success) return $"unknown field '{(field is null ? unmapped.Groups[1].Value : field)}'.";
        // Syntax errors: the reader's own words and position, without the path suffix.
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var text = cut >= 0 ? message[..cut] : message;
        return e.LineNumber is { } line && e.BytePositionInLine is { } pos ? $"{text} (line {line + 1}, byte {pos + 1})" : text;
    }

    /// <summary>The 413 error for a body over <paramref name="maxBytes"/>.</summary>
    public static ApiError TooLarge(long maxBytes) =>
        new(413, $"The request body is larger than this endpoint accepts ({maxBytes} bytes).", code: "request_too_large");
}
