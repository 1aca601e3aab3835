// Incremental detokenization for token streaming. Byte-level BPE tokens can end inside a UTF-8 character (an
// emoji is often two or three tokens), so bytes of an unfinished character are held until the rest arrives.
using System.Text;

namespace Cartridges.Model.Tokenization;

/// <summary>Turns token ids into text as they arrive, emitting only complete UTF-8 characters.</summary>
public sealed class StreamingDecoder
{
    readonly HfTokenizer _tokenizer;
    readonly bool _skipSpecial;
    // System.Text.Decoder keeps a trailing partial sequence between calls, which is exactly the hold-back needed.
    readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();

    /// <summary>Creates a decoder over <paramref name="tokenizer"/>; special tokens are dropped when asked.</summary>
    public StreamingDecoder(HfTokenizer tokenizer, bool skipSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
    }

    /// <summary>The text completed by token <paramref name="id"/>; empty while a character is still partial.</summary>
    public string Push(int id) => Convert(_tokenizer.TokenBytes(id, _skipSpecial), flush: false);

    /// <summary>The text completed by <paramref name="ids"/>, in order.</summary>
    public string Push(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        foreach (var id in ids)
            text.Append(Push(id));
        return text.ToString();
    }

    /// <summary>Ends the stream: a character left incomplete comes out as U+FFFD, as Decode would give.</summary>
    public string Flush() => Convert([], flush: true);

    string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        var chars = new char[_utf8.GetCharCount(bytes, flush)];
        var written = _utf8.GetChars(bytes, chars, flush);
        return new string(chars, 0, written);
    }
}
