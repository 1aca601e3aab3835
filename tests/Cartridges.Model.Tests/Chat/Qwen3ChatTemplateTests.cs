// Qwen3 (ChatML) rendering, checked against the strings Qwen's chat_template produces (thinking left out).
using Cartridges.Model.Chat;

namespace Cartridges.Model.Tests.Chat;

public sealed class Qwen3ChatTemplateTests
{
    static readonly ChatTemplate Template = ChatTemplate.For("qwen3");

    [Fact]
    public void Render_SystemUserAndGenerationPrompt_MatchesOfficialTemplate()
    {
        var text = Template.Render([new("system", "You are terse."), new("user", "What is 2+2?")], addGenerationPrompt: true);

        Assert.Equal(
            "<|im_start|>system\nYou are terse.<|im_end|>\n" +
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            text);
    }

    [Fact]
    public void Render_MultiTurn_KeepsContentVerbatim()
    {
        var text = Template.Render([new("user", "Hi "), new("assistant", "Hello!"), new("user", "Bye")], addGenerationPrompt: false);

        Assert.Equal(
            "<|im_start|>user\nHi <|im_end|>\n" +
            "<|im_start|>assistant\nHello!<|im_end|>\n" +
            "<|im_start|>user\nBye<|im_end|>\n",
            text);
    }

    [Fact]
    public void Render_ForCartridge_IsTheSameText()
    {
        ChatMessage[] messages = [new("system", "S"), new("user", "Q")];

        Assert.Equal(
            Template.Render(messages, addGenerationPrompt: true),
            Template.Render(messages, addGenerationPrompt: true, forCartridge: true));
    }

    [Fact]
    public void StopTokens_AreImEndAndEndOfText()
    {
        Assert.Equal(new[] { "<|im_end|>", "<|endoftext|>" }, Template.StopTokens);
    }
}
