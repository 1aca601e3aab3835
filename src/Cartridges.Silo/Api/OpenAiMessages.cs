// OpenAI chat messages as every entry point reads them (chat completions, /tokenize, `model tokenize --messages`):
// roles system, developer (= system), user and assistant; content a string or an array of text parts.
using System.Text;
using System.Text.Json;
using Cartridges.Model.Chat;

namespace Cartridges.Silo.Api;

/// <summary>Turns OpenAI messages into the runtime's chat messages; an <see cref="ApiError"/> (400) names a bad one.</summary>
public static class OpenAiMessages
{
    /// <summary>The messages in order, developer messages as system ones.</summary>
    public static List<ChatMessage> Parse(IReadOnlyList<ChatMessageDto?> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var parsed = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var role = messages[i]?.Role switch
            {
                "system" or "developer" => "system",
                "user" => "user",
                "assistant" => "assistant",
                var other => throw ApiError.BadRequest($"messages[{i}].role '{other}' is not supported (system, developer, user, assistant).", $"messages[{i}].role"),
            };
            parsed.Add(new ChatMessage(role, Text(messages[i]?.Content, i)));
        }
        return parsed;
    }

    /// <summary>A message's text: a string or an array of text parts.</summary>
    public static string Text(JsonElement? content, int index)
    {
        if (content is not { } c || c.ValueKind == JsonValueKind.Null) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw ApiError.BadRequest($"messages[{index}].content must be a string or an array of text parts.", $"messages[{index}].content");
        var text = new StringBuilder();
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
                throw ApiError.BadRequest($"messages[{index}].content: only text parts are supported.", $"messages[{index}].content");
            text.Append(value.GetString());
        }
        return text.ToString();
    }
}
