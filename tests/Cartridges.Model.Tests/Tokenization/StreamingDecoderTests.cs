// Token streaming: text comes out as soon as characters are complete, never as broken UTF-8.
using Cartridges.Model.Tokenization;
using static Cartridges.Model.Tests.Tokenization.TinyTokenizerJson;

namespace Cartridges.Model.Tests.Tokenization;

public sealed class StreamingDecoderTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>, IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "cartridges-tokstream-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Push_EmojiSplitOverByteTokens_WaitsForTheWholeCharacter()
    {
        // The tiny tokenizer has no merges for 😀 (F0 9F 98 80), so it is four one-byte tokens.
        var tok = HfTokenizer.Load(WriteTo(_dir, Build()));
        var ids = tok.Encode("hi😀!");
        Assert.Equal(new[] { 'h', 'i', 0xF0, 0x9F, 0x98, 0x80, '!' }, ids);

        var decoder = tok.CreateStreamingDecoder();
        var pieces = ids.Select(decoder.Push).ToList();

        Assert.Equal(new[] { "h", "i", "", "", "", "😀", "!" }, pieces);
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void Push_RealGpt2Tokens_NeverEmitsReplacementCharacters()
    {
        var tok = fixture.Qwen3;
        const string text = "emoji 😀👍🏽🇫🇷 日本語 café <|im_end|> done";
        var ids = tok.Encode(text);
        var decoder = tok.CreateStreamingDecoder();

        var pieces = ids.Select(decoder.Push).ToList();

        Assert.Contains("", pieces);   // some emoji really are split across tokens
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Equal(text, string.Concat(pieces) + decoder.Flush());
    }

    [Fact]
    public void Push_SkipSpecial_DropsSpecialTokens()
    {
        var tok = fixture.Llama3;
        var decoder = new StreamingDecoder(tok, skipSpecial: true);

        var text = decoder.Push(tok.Encode("<|start_header_id|>assistant<|end_header_id|>\n\nHi<|eot_id|>", specialTokens: true));

        Assert.Equal("assistant\n\nHi", text);
    }

    [Fact]
    public void Flush_AfterIncompleteCharacter_GivesReplacementCharacter()
    {
        var tok = HfTokenizer.Load(WriteTo(_dir, Build()));
        var decoder = tok.CreateStreamingDecoder();

        Assert.Equal("", decoder.Push(0xF0));
        Assert.Equal("\uFFFD", decoder.Flush());
    }
}
