// Family lookup, input checks, and encoding rendered prompts through GPT-2-based tokenizers from TokenizerFiles.
using Cartridges.Model.Chat;
using Cartridges.Model.Tests.Tokenization;

namespace Cartridges.Model.Tests.Chat;

public sealed class ChatTemplateTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>
{
    [Theory]
    [InlineData("llama", typeof(LlamaChatTemplate))]
    [InlineData("Qwen3", typeof(Qwen3ChatTemplate))]
    public void For_KnownFamily_ReturnsItsTemplate(string family, Type expected)
    {
        Assert.IsType(expected, ChatTemplate.For(family));
    }

    [Fact]
    public void For_UnknownFamily_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.For("mistral"));
        Assert.Contains("mistral", e.Message);
        Assert.Contains("llama", e.Message);
    }

    [Fact]
    public void Render_UnknownRole_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.For("qwen3").Render([new("tool", "x")], addGenerationPrompt: false));
        Assert.Contains("tool", e.Message);
    }

    [Fact]
    public void Encode_Llama_MapsEachSpecialTokenToOneId()
    {
        var tok = fixture.Llama3;
        var template = ChatTemplate.For("llama");

        var ids = template.Encode(tok, [new("user", "Hello there")], addGenerationPrompt: true);

        int bos = tok.EncodeSpecial("<|begin_of_text|>"), start = tok.EncodeSpecial("<|start_header_id|>"),
            end = tok.EncodeSpecial("<|end_header_id|>"), eot = tok.EncodeSpecial("<|eot_id|>");
        Assert.Equal(bos, ids[0]);
        Assert.Equal(1, ids.Count(id => id == bos));
        Assert.Equal(3, ids.Count(id => id == start));
        Assert.Equal(3, ids.Count(id => id == end));
        Assert.Equal(2, ids.Count(id => id == eot));
        Assert.Equal(template.Render([new("user", "Hello there")], addGenerationPrompt: true), tok.Decode(ids));
        // The generation prompt ends in the assistant header and its blank line.
        var prompt = tok.Encode("<|start_header_id|>assistant<|end_header_id|>\n\n");
        Assert.Equal(prompt, ids.TakeLast(prompt.Count));
    }

    [Fact]
    public void Encode_LlamaForCartridge_StartsWithHeaderNotBos()
    {
        var tok = fixture.Llama3;

        var ids = ChatTemplate.For("llama").Encode(tok, [new("user", "Hi")], addGenerationPrompt: true, forCartridge: true);

        Assert.Equal(tok.EncodeSpecial("<|start_header_id|>"), ids[0]);
        Assert.DoesNotContain(tok.BosId!.Value, ids);
    }

    [Fact]
    public void Encode_Qwen3_MapsEachSpecialTokenToOneId()
    {
        var tok = fixture.Qwen3;

        var ids = ChatTemplate.For("qwen3").Encode(tok, [new("system", "S"), new("user", "Hi")], addGenerationPrompt: true);

        int start = tok.EncodeSpecial("<|im_start|>"), end = tok.EncodeSpecial("<|im_end|>");
        Assert.Equal(start, ids[0]);
        Assert.Equal(3, ids.Count(id => id == start));
        Assert.Equal(2, ids.Count(id => id == end));
        var prompt = tok.Encode("assistant\n");
        Assert.Equal(prompt, ids.TakeLast(prompt.Count));
        Assert.Equal(start, ids[^(prompt.Count + 1)]);
    }

    [Fact]
    public void StopTokenIds_KeepOnlyTokensTheVocabularyHas()
    {
        Assert.Equal(
            new[] { fixture.Llama3.EncodeSpecial("<|eot_id|>"), fixture.Llama3.EncodeSpecial("<|end_of_text|>") },
            ChatTemplate.For("llama").StopTokenIds(fixture.Llama3));
        Assert.Equal(
            new[] { fixture.Qwen3.EncodeSpecial("<|im_end|>"), fixture.Qwen3.EncodeSpecial("<|endoftext|>") },
            ChatTemplate.For("qwen3").StopTokenIds(fixture.Qwen3));
    }
}
