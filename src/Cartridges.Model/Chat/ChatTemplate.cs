// Chat templates written in code instead of Jinja: each family renders exactly what its official
// tokenizer_config.json chat_template renders, with special tokens as text for HfTokenizer to map. The
// cartridge variant drops what the cartridge's KV prefix already holds (BOS and any fixed header).
using Cartridges.Model.Tokenization;

namespace Cartridges.Model.Chat;

/// <summary>Renders chat messages into a model family's prompt format.</summary>
public abstract class ChatTemplate
{
    /// <summary>The roles templates accept.</summary>
    public static readonly IReadOnlyList<string> Roles = ["system", "user", "assistant"];

    /// <summary>The template for a family: "llama" (Llama-3.x) or "qwen3".</summary>
    /// <exception cref="ArgumentException">The family is unknown.</exception>
    public static ChatTemplate For(string family)
    {
        ArgumentNullException.ThrowIfNull(family);
        return family.Trim().ToLowerInvariant() switch
        {
            "llama" => new LlamaChatTemplate(),
            "qwen3" => new Qwen3ChatTemplate(),
            _ => throw new ArgumentException($"unknown chat template family '{family}' (known: llama, qwen3)", nameof(family)),
        };
    }

    /// <summary>
    /// Token strings that end an assistant turn. Some may be absent from a given vocabulary; use
    /// <see cref="StopTokenIds"/> to resolve the ones present.
    /// </summary>
    public abstract IReadOnlyList<string> StopTokens { get; }

    /// <summary>
    /// The prompt text, special tokens written out. <paramref name="forCartridge"/> renders the part that follows
    /// a cartridge, which already holds BOS.
    /// </summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message);
            ArgumentNullException.ThrowIfNull(message.Content);
            if (!Roles.Contains(message.Role))
                throw new ArgumentException($"chat role '{message.Role}' is not one of: {string.Join(", ", Roles)}", nameof(messages));
        }
        return Build(messages, addGenerationPrompt, forCartridge).Text;
    }

    /// <summary>
    /// Renders and encodes in one step: the template's special tokens become their single ids, while special-token
    /// text inside message content stays ordinary text (no control-token injection).
    /// </summary>
    public IReadOnlyList<int> Encode(HfTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Render(messages, addGenerationPrompt, forCartridge); // validates
        var prompt = Build(messages, addGenerationPrompt, forCartridge);
        return tokenizer.Encode(prompt.Text, prompt.IsMarkup);
    }

    PromptBuilder Build(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge)
    {
        var prompt = new PromptBuilder();
        RenderCore(prompt, messages, addGenerationPrompt, forCartridge);
        return prompt;
    }

    /// <summary>Ids of the <see cref="StopTokens"/> that <paramref name="tokenizer"/> has.</summary>
    public IReadOnlyList<int> StopTokenIds(HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var ids = new List<int>();
        foreach (var token in StopTokens)
        {
            if (tokenizer.TryGetId(token, out var id))
                ids.Add(id);
        }
        return ids;
    }

    /// <summary>
    /// This template with the model's reasoning mode switched on or off (Qwen3's <c>enable_thinking</c>); families
    /// without one return themselves.
    /// </summary>
    public virtual ChatTemplate WithThinking(bool enabled) => this;

    /// <summary>Renders validated messages: the template's own text as markup, message text as content.</summary>
    protected abstract void RenderCore(PromptBuilder prompt, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge);
}
