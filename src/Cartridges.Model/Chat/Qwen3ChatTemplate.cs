// The Qwen3 template (Qwen's tokenizer_config.json chat_template, without tools): `<|im_start|>role\n
// content<|im_end|>\n` per message. Left out on purpose: the <think> handling (stripping reasoning from earlier
// assistant turns, and the empty <think></think> block that enable_thinking=false adds to the generation
// prompt), so callers that want thinking disabled must add it themselves. Qwen has no BOS, so the cartridge
// variant renders the same text.
namespace Cartridges.Model.Chat;

/// <summary>Qwen3 (ChatML) chat format.</summary>
public sealed class Qwen3ChatTemplate : ChatTemplate
{
    /// <summary>&lt;|im_end|&gt; and &lt;|endoftext|&gt;.</summary>
    public override IReadOnlyList<string> StopTokens { get; } = ["<|im_end|>", "<|endoftext|>"];

    /// <inheritdoc />
    protected override void RenderCore(PromptBuilder prompt, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge)
    {
        foreach (var message in messages)
            prompt.Markup("<|im_start|>").Markup(message.Role).Markup("\n").Content(message.Content).Markup("<|im_end|>\n");
        if (addGenerationPrompt)
            prompt.Markup("<|im_start|>assistant\n");
    }
}
