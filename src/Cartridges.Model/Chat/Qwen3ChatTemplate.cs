// The Qwen3 template (Qwen's tokenizer_config.json chat_template, without tools), written in code: the first system
// message, then `<|im_start|>role\ncontent<|im_end|>\n` per turn. Assistant turns lose any reasoning written into them
// (`<think>…</think>`), except after the last user message, where the official template keeps it in a think block (and
// writes an empty one for the final turn). Thinking is off unless asked for: the generation prompt then ends with the
// empty `<think>\n\n</think>\n\n` block that `enable_thinking=false` renders, so the model answers at once instead of
// reasoning (self-study questions and answers must not be reasoning traces, and greedy thinking loops). Qwen has no
// BOS, so the cartridge variant renders the same text.
namespace Cartridges.Model.Chat;

/// <summary>Qwen3 (ChatML) chat format.</summary>
public sealed class Qwen3ChatTemplate(bool enableThinking = false) : ChatTemplate
{
    const string ThinkOpen = "<think>";
    const string ThinkClose = "</think>";

    /// <summary>Whether the generation prompt leaves the model free to reason first (<c>enable_thinking</c>).</summary>
    public bool EnableThinking { get; } = enableThinking;

    /// <summary>&lt;|im_end|&gt; and &lt;|endoftext|&gt;.</summary>
    public override IReadOnlyList<string> StopTokens { get; } = ["<|im_end|>", "<|endoftext|>"];

    /// <inheritdoc />
    public override ChatTemplate WithThinking(bool enabled) => enabled == EnableThinking ? this : new Qwen3ChatTemplate(enabled);

    /// <inheritdoc />
    protected override void RenderCore(PromptBuilder prompt, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge)
    {
        var lastQuery = messages.Count - 1;
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Role == "user")
            {
                lastQuery = i;
                break;
            }
        }
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role != "assistant")
            {
                Turn(prompt, message.Role).Content(message.Content).Markup("<|im_end|>\n");
                continue;
            }
            var (reasoning, content) = SplitReasoning(message.Content);
            Turn(prompt, "assistant");
            if (i > lastQuery && (i == messages.Count - 1 || reasoning.Length > 0))
                prompt.Markup(ThinkOpen + "\n").Content(reasoning.Trim('\n')).Markup("\n" + ThinkClose + "\n\n").Content(content.TrimStart('\n'));
            else
                prompt.Content(content);
            prompt.Markup("<|im_end|>\n");
        }
        if (addGenerationPrompt)
        {
            Turn(prompt, "assistant");
            if (!EnableThinking) prompt.Markup(ThinkOpen + "\n\n" + ThinkClose + "\n\n");
        }
    }

    static PromptBuilder Turn(PromptBuilder prompt, string role) => prompt.Markup("<|im_start|>").Markup(role).Markup("\n");

    /// <summary>
    /// The reasoning written into an assistant message and the reply after it, as the official template splits them:
    /// everything before the first <c>&lt;/think&gt;</c> (from the last <c>&lt;think&gt;</c> on) and everything after the last one.
    /// </summary>
    public static (string Reasoning, string Content) SplitReasoning(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains(ThinkClose, StringComparison.Ordinal)) return ("", text);
        var parts = text.Split(ThinkClose);
        var reasoning = parts[0].TrimEnd('\n').Split(ThinkOpen)[^1].TrimStart('\n');
        return (reasoning, parts[^1].TrimStart('\n'));
    }

    /// <summary>A reply with any think block removed (what a stored question or answer keeps).</summary>
    public static string WithoutReasoning(string text)
    {
        var (_, content) = SplitReasoning(text);
        // An unclosed block (generation cut off while thinking) holds no reply at all.
        var open = content.IndexOf(ThinkOpen, StringComparison.Ordinal);
        return open >= 0 ? content[..open].TrimEnd() : content;
    }
}
