// Llama-3.x rendering, checked against the exact strings Meta's chat_template produces.
using Cartridges.Model.Chat;

namespace Cartridges.Model.Tests.Chat;

public sealed class LlamaChatTemplateTests
{
    static readonly ChatTemplate Template = ChatTemplate.For("llama");

    [Fact]
    public void Render_SystemUserAndGenerationPrompt_MatchesOfficialTemplate()
    {
        var text = Template.Render([new("system", "You are terse."), new("user", "  What is 2+2?\n")], addGenerationPrompt: true);

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" +
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n" +
            "You are terse.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            text);
    }

    [Fact]
    public void Render_NoSystemMessage_StillWritesTheDatedSystemHeader()
    {
        var text = Template.Render([new("user", "Hi")], addGenerationPrompt: false);

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" +
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
            text);
    }

    [Fact]
    public void Render_MultiTurn_TrimsEachTurn()
    {
        var text = new LlamaChatTemplate(todayDate: "01 Jan 2025").Render(
            [new("user", "Hi"), new("assistant", " Hello! \n"), new("user", "Bye")],
            addGenerationPrompt: true);

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" +
            "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            text);
    }

    [Fact]
    public void Render_ForCartridge_HasNoBosAndNoDateHeader()
    {
        var text = Template.Render([new("user", "Summarise the document.")], addGenerationPrompt: true, forCartridge: true);

        Assert.Equal(
            "<|start_header_id|>user<|end_header_id|>\n\nSummarise the document.<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            text);
    }

    [Fact]
    public void Render_ForCartridgeWithSystem_KeepsSystemWithoutDates()
    {
        var text = Template.Render([new("system", "Be brief."), new("user", "Q")], addGenerationPrompt: false, forCartridge: true);

        Assert.Equal(
            "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>",
            text);
        Assert.DoesNotContain("Today Date", text);
        Assert.DoesNotContain("<|begin_of_text|>", text);
    }

    [Fact]
    public void StopTokens_AreEndOfTurnEndOfTextAndEom()
    {
        Assert.Equal(new[] { "<|eot_id|>", "<|end_of_text|>", "<|eom_id|>" }, Template.StopTokens);
    }
}
