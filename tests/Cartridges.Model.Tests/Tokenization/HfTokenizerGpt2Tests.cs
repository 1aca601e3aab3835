// HfTokenizer over the real GPT-2 vocabulary written by TokenizerFiles: ids must equal Microsoft.ML.Tokenizers'
// tiktoken GPT-2 on plain text, decoding must round-trip, and each flavor's special tokens map to single ids.
using Cartridges.Model.Tokenization;

namespace Cartridges.Model.Tests.Tokenization;

public sealed class HfTokenizerGpt2Tests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>
{
    public static TheoryData<TokenizerFlavor> Flavors => [TokenizerFlavor.Llama3, TokenizerFlavor.Qwen3];

    public static TheoryData<string> Handpicked => [.. TextCorpus.Handpicked];

    [Theory]
    [MemberData(nameof(Handpicked))]
    public void Encode_HandpickedText_MatchesTiktokenGpt2(string text)
    {
        var expected = fixture.Tiktoken.EncodeToIds(text);
        Assert.Equal(expected, fixture.Llama3.Encode(text));
        Assert.Equal(expected, fixture.Qwen3.Encode(text));
    }

    [Fact]
    public void Encode_RandomMixedText_MatchesTiktokenGpt2()
    {
        foreach (var text in TextCorpus.Random(300))
            Assert.Equal(fixture.Tiktoken.EncodeToIds(text), fixture.Qwen3.Encode(text, specialTokens: true));
    }

    [Fact]
    public void Encode_LongDocument_MatchesTiktokenGpt2()
    {
        var text = string.Join("\n\n", TextCorpus.Handpicked.Concat(TextCorpus.Random(200, seed: 7)));
        Assert.Equal(fixture.Tiktoken.EncodeToIds(text), fixture.Llama3.Encode(text));
    }

    [Fact]
    public void Encode_QwenEndOfText_SameIdAsGpt2()
    {
        // Qwen3's <|endoftext|> lands on GPT-2's id 50256, so tiktoken can check special-token splitting too.
        const string text = "first doc<|endoftext|>second doc <|endoftext|><|endoftext|>\n";
        Assert.Equal(fixture.Tiktoken.EncodeToIds(text), fixture.Qwen3.Encode(text, specialTokens: true));
    }

    [Theory]
    [MemberData(nameof(Handpicked))]
    public void Decode_HandpickedText_RoundTrips(string text)
    {
        Assert.Equal(text, fixture.Llama3.Decode(fixture.Llama3.Encode(text)));
        Assert.Equal(text, fixture.Qwen3.Decode(fixture.Qwen3.Encode(text)));
    }

    [Fact]
    public void Decode_RandomMixedText_RoundTrips()
    {
        foreach (var text in TextCorpus.Random(200, seed: 99))
            Assert.Equal(text, fixture.Qwen3.Decode(fixture.Qwen3.Encode(text)));
    }

    [Fact]
    public void Encode_Llama3SpecialTokensInText_BecomeSingleIds()
    {
        var tok = fixture.Llama3;
        var ids = tok.Encode("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi 😀<|eot_id|>", specialTokens: true);

        Assert.Equal(new[] { 50256, 50258 }, ids.Take(2));
        Assert.Equal(50259, ids[3]);
        Assert.Equal(50260, ids[^1]);
        Assert.Equal("user", tok.Decode([ids[2]]));
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi 😀<|eot_id|>", tok.Decode(ids));
        Assert.Equal("user\n\nHi 😀", tok.Decode(ids, skipSpecial: true));
    }

    [Fact]
    public void Encode_SpecialTokenBetweenWords_SplitsAroundIt()
    {
        var tok = fixture.Qwen3;
        var ids = tok.Encode("a<|im_end|>b", specialTokens: true);
        Assert.Equal(new[] { fixture.Tiktoken.EncodeToIds("a")[0], 50258, fixture.Tiktoken.EncodeToIds("b")[0] }, ids);
    }

    [Fact]
    public void Encode_NeverAddsBos()
    {
        Assert.Equal(fixture.Tiktoken.EncodeToIds("Hello"), fixture.Llama3.Encode("Hello"));
        Assert.Empty(fixture.Llama3.Encode(""));
    }

    [Fact]
    public void Roles_Llama3_ComeFromTokenizerConfig()
    {
        var tok = fixture.Llama3;
        Assert.Equal(50256, tok.BosId);
        Assert.Equal(50260, tok.EosId);
        Assert.Null(tok.PadId);
        Assert.Equal(50261, tok.VocabSize);
        Assert.Equal(50260, tok.EncodeSpecial("<|eot_id|>"));
    }

    [Fact]
    public void Roles_Qwen3_ComeFromTokenizerConfig()
    {
        var tok = fixture.Qwen3;
        Assert.Null(tok.BosId);
        Assert.Equal(50258, tok.EosId);
        Assert.Equal(50256, tok.PadId);
        Assert.Equal(50259, tok.VocabSize);
        Assert.Equal(50257, tok.EncodeSpecial("<|im_start|>"));
    }

    [Fact]
    public void TryGetId_FindsAddedTokensAndByteLevelSpellings()
    {
        Assert.True(fixture.Qwen3.TryGetId("Ġthe", out var the));
        Assert.Equal(fixture.Tiktoken.EncodeToIds(" the"), new[] { the });
        Assert.True(fixture.Qwen3.TryGetId("<|im_end|>", out var imEnd));
        Assert.Equal(50258, imEnd);
        Assert.False(fixture.Qwen3.TryGetId("<|eot_id|>", out _));
    }

    [Fact]
    public void EncodeSpecial_NotAnAddedToken_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => fixture.Qwen3.EncodeSpecial("<|eot_id|>"));
        Assert.Contains("<|eot_id|>", e.Message);
    }

    [Fact]
    public void Decode_IdsBeyondTheTokenizer_DecodeToNothing()
    {
        // A padded embedding has rows (here up to VocabSizeFor) that no token owns; sampling one must not crash.
        var hello = fixture.Qwen3.Encode("Hello");
        var padded = TokenizerFiles.VocabSizeFor(TokenizerFlavor.Qwen3) - 1;
        Assert.Equal("Hello", fixture.Qwen3.Decode([.. hello, padded, -1]));
    }
}
