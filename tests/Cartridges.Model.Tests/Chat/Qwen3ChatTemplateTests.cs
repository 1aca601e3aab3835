// Qwen3 (ChatML) rendering, checked against the strings Qwen's chat_template produces: with enable_thinking=false (our
// default) and true, reasoning stripped from earlier assistant turns and kept in a think block after the last query.
using Cartridges.Model.Chat;

namespace Cartridges.Model.Tests.Chat;

public sealed class Qwen3ChatTemplateTests
{
    static readonly ChatTemplate Template = ChatTemplate.For("qwen3");

    [Fact]
    public void Render_GenerationPrompt_ClosesAnEmptyThinkBlockByDefault_AndOpensNothingWithThinkingOn()
    {
        ChatMessage[] messages = [new("system", "You are terse."), new("user", "What is 2+2?")];
        const string turns = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n";

        Assert.Equal(turns + "<|im_start|>assistant\n<think>\n\n</think>\n\n", Template.Render(messages, addGenerationPrompt: true));
        Assert.Equal(turns + "<|im_start|>assistant\n", Template.WithThinking(true).Render(messages, addGenerationPrompt: true));
        Assert.False(((Qwen3ChatTemplate)Template).EnableThinking);
        Assert.Same(Template, Template.WithThinking(false));
    }

    [Fact]
    public void Render_MultiTurn_StripsReasoningFromEarlierAnswers_AndKeepsContentVerbatim()
    {
        var text = Template.Render(
            [new("user", "Hi "), new("assistant", "<think>\ngreeting\n</think>\n\nHello!"), new("system", "Be brief."), new("user", "Bye")],
            addGenerationPrompt: false);

        Assert.Equal(
            "<|im_start|>user\nHi <|im_end|>\n" +
            "<|im_start|>assistant\nHello!<|im_end|>\n" +
            "<|im_start|>system\nBe brief.<|im_end|>\n" +
            "<|im_start|>user\nBye<|im_end|>\n",
            text);
    }

    [Fact]
    public void Render_AnswersAfterTheLastQuestion_CarryTheirThinkBlock_TheFinalOneAnEmptyOne()
    {
        // What a trained conversation looks like to the official template: the final answer gets an (empty) think block,
        // so training text matches what generation with thinking off produces.
        var final = Template.Render([new("user", "Q"), new("assistant", "A")], addGenerationPrompt: false);
        Assert.Equal("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA<|im_end|>\n", final);

        var reasoned = Template.Render([new("user", "Q"), new("assistant", "<think>\nstep one\n</think>\nA1"), new("assistant", "A2")], addGenerationPrompt: false);
        Assert.Equal(
            "<|im_start|>user\nQ<|im_end|>\n" +
            "<|im_start|>assistant\n<think>\nstep one\n</think>\n\nA1<|im_end|>\n" +
            "<|im_start|>assistant\n<think>\n\n</think>\n\nA2<|im_end|>\n",
            reasoned);
    }

    [Theory]
    [InlineData("plain", "", "plain")]
    [InlineData("<think>\nhmm\n</think>\n\nAnswer", "hmm", "Answer")]
    [InlineData("\n<think>a</think>b</think>\nc", "a", "c")]
    public void SplitReasoning_FollowsTheOfficialTemplate(string text, string reasoning, string content)
    {
        Assert.Equal((reasoning, content), Qwen3ChatTemplate.SplitReasoning(text));
    }

    [Theory]
    [InlineData("<think>\nwhy\n</think>\n\nWhat is the ward?", "What is the ward?")]
    [InlineData("What is the ward?", "What is the ward?")]
    [InlineData("Sure. <think>\nI should ask about", "Sure.")]
    public void WithoutReasoning_KeepsOnlyTheReply(string text, string expected)
    {
        Assert.Equal(expected, Qwen3ChatTemplate.WithoutReasoning(text));
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
