// Small helpers for raw-HTTP tests: reading OpenAI error bodies and JSON.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Cartridges.Api.Tests.Support;

/// <summary>Assertions on API responses.</summary>
public static class ApiAssert
{
    /// <summary>Asserts <paramref name="response"/> has <paramref name="status"/> and an OpenAI error body; returns error.code.</summary>
    public static async Task<string?> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.True(error.TryGetProperty("param", out _));
        return error.GetProperty("code").GetString();
    }

    /// <summary>Asserts <paramref name="status"/> and an OpenAI error body; returns the error object.</summary>
    public static async Task<JsonElement> ErrorBodyAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        await AssertErrorAsync(response, status);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").Clone();
    }

    /// <summary>The names in GET /v1/cartridges.</summary>
    public static async Task<List<string>> ListAsync(HttpClient http)
    {
        var list = await http.GetFromJsonAsync<JsonElement>("/v1/cartridges");
        Assert.Equal("list", list.GetProperty("object").GetString());
        return [.. list.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];
    }

    /// <summary>A greedy chat completion request body (temperature 0, so answers compare with the grain's).</summary>
    public static object Chat(string model, string question, int maxTokens = 8, object? cartridges = null, bool stream = false) =>
        cartridges is null
            ? new { model, messages = new[] { new { role = "user", content = question } }, max_tokens = maxTokens, stream, temperature = 0 }
            : new { model, messages = new[] { new { role = "user", content = question } }, max_tokens = maxTokens, stream, temperature = 0, cartridges };
}
