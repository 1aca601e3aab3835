// GPT-2's reversible byte <-> character map (`bytes_to_unicode` in openai/gpt-2 encoder.py, used by every
// byte-level BPE on the Hugging Face hub). Printable Latin-1 bytes stand for themselves; the other 68 bytes
// map to U+0100.. in byte order, so a token's bytes become a printable string without spaces.
using System.Text;

namespace Cartridges.Model.Tokenization;

static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = BuildByteToChar();
    static readonly short[] CharToByte = BuildCharToByte(ByteToChar);

    /// <summary>The character that stands for a byte in vocabularies and merges.</summary>
    public static char ToChar(byte b) => ByteToChar[b];

    /// <summary>The vocabulary spelling of a byte string.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = bytes.Length <= 256 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The vocabulary spelling of a piece of text (its UTF-8 bytes).</summary>
    public static string EncodeText(ReadOnlySpan<char> text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        Encoding.UTF8.GetBytes(text, bytes);
        return Encode(bytes);
    }

    /// <summary>
    /// The bytes a vocabulary token stands for. Like the Hugging Face ByteLevel decoder, a token holding any
    /// character outside the alphabet is taken literally, as its UTF-8 bytes.
    /// </summary>
    public static byte[] Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c >= CharToByte.Length || CharToByte[c] < 0)
                return Encoding.UTF8.GetBytes(token);
            bytes[i] = (byte)CharToByte[c];
        }
        return bytes;
    }

    static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    static short[] BuildCharToByte(char[] byteToChar)
    {
        var inverse = new short[byteToChar.Max() + 1];
        Array.Fill(inverse, (short)-1);
        for (var b = 0; b < byteToChar.Length; b++)
            inverse[byteToChar[b]] = (short)b;
        return inverse;
    }
}
