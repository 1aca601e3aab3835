// The Llama-3.1/3.2 instruct template (Meta's tokenizer_config.json chat_template, without tools): BOS, a system
// header that always carries the knowledge-cutoff and date lines, then one header + trimmed content + <|eot_id|>
// per turn. Only a leading system message goes into that header; later ones render as ordinary turns.
using System.Text;

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
    protected override string RenderCore(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool forCartridge)
    {
        var text = new StringBuilder();
        var rest = messages.AsEnumerable();
        var system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content.Trim() : null;
        if (system is not null)
            rest = rest.Skip(1);

        if (forCartridge)
        {
            // The cartridge holds BOS and stands in for the dated header; an explicit system message still counts.
            if (system is not null)
                AppendTurn(text, "system", system);
        }
        else
        {
            text.Append(Bos);
            AppendHeader(text, "system");
            text.Append("Cutting Knowledge Date: December 2023\n")
                .Append("Today Date: ").Append(TodayDate).Append("\n\n")
                .Append(system ?? "")
                .Append(EndOfTurn);
        }

        foreach (var message in rest)
            AppendTurn(text, message.Role, message.Content.Trim());
        if (addGenerationPrompt)
            AppendHeader(text, "assistant");
        return text.ToString();
    }

    static void AppendHeader(StringBuilder text, string role) =>
        text.Append("<|start_header_id|>").Append(role).Append("<|end_header_id|>\n\n");

    static void AppendTurn(StringBuilder text, string role, string content)
    {
        AppendHeader(text, role);
        text.Append(content).Append(EndOfTurn);
    }
}
