// One turn of a conversation, as chat templates and the OpenAI-style API see it.
namespace Cartridges.Model.Chat;

/// <summary>A chat turn; <paramref name="Role"/> is "system", "user" or "assistant".</summary>
public sealed record ChatMessage(string Role, string Content);
