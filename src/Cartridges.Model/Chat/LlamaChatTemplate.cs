// The Llama-3.1/3.2 instruct template (Meta's tokenizer_config.json chat_template, without tools): BOS, a system
// header that always carries the knowledge-cutoff and date lines, then one header + trimmed content + <|eot_id|>
// per turn. Only a leading system message goes into that header; later ones render as ordinary turns.
namespace Cartridges.Model.Chat;

/// <summary>Llama-3.x chat format.</summary>
public sealed class LlamaChatTemplate : ChatTemplate
{
    /// <summary>The date the official template falls back to when none is given.</summary>
    public const string DefaultTodayDate = "26 Jul 2024";

    const string Bos = "<|begin_of_text|>";
    const string EndOfTurn = "<|eot_id|>";

    /// <summary>Creates the template; <paramref name="todayDate"/> fills "Today Date:" (e.g. "26 Jul 2024").</summary>
    public LlamaChatTemplate(string todayDate = DefaultTodayDate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(todayDate);
        TodayDate = todayDate;
    }

    /// <summary>The date written in the system header.</summary>
    public string TodayDate { get; }

    /// <summary>&lt;|eot_id|&gt;, &lt;|end_of_text|&gt;, and &lt;|eom_id|&gt; (3.1+ tool calls) where the vocabulary has it.</summary>
    public override IReadOnlyList<string> StopTokens { get; } = [EndOfTurn, "<|end_of_text|>", "<|eom_id|>"];

    /// <inheritdoc />
    protected override void RenderCore(PromptBuilder prompt, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge)
    {
        var rest = messages.AsEnumerable();
        var system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content.Trim() : null;
        if (system is not null)
            rest = rest.Skip(1);

        if (forCartridge)
        {
            // The cartridge holds BOS and stands in for the dated header; an explicit system message still counts.
            if (system is not null)
                AppendTurn(prompt, "system", system);
        }
        else
        {
            prompt.Markup(Bos);
            AppendHeader(prompt, "system");
            prompt.Markup("Cutting Knowledge Date: December 2023\n")
                .Markup("Today Date: ").Markup(TodayDate).Markup("\n\n")
                .Content(system ?? "")
                .Markup(EndOfTurn);
        }

        foreach (var message in rest)
            AppendTurn(prompt, message.Role, message.Content.Trim());
        if (addGenerationPrompt)
            AppendHeader(prompt, "assistant");
    }

    static void AppendHeader(PromptBuilder prompt, string role) =>
        prompt.Markup("<|start_header_id|>").Markup(role).Markup("<|end_header_id|>\n\n");

    static void AppendTurn(PromptBuilder prompt, string role, string content)
    {
        AppendHeader(prompt, role);
        prompt.Content(content).Markup(EndOfTurn);
    }
}
