// GPT-2's byte-to-character table (every byte gets a printable character; space becomes 'Ġ', newline 'Ċ'), which
// byte-level BPE vocabularies are written in. The runtime has its own internal copy; this one writes vocabularies.
using System.Text;

namespace Cartridges.ProvingGround.Vocabulary;

/// <summary>Spells text in the byte-level alphabet of tokenizer.json vocabularies.</summary>
public static class ByteLevelChars
{
    static readonly char[] ByteToChar = Build();

    static char[] Build()
    {
        // Printable Latin-1 bytes keep their character; the other 68 bytes map to U+0100 onwards in byte order.
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    /// <summary>The character standing for byte <paramref name="b"/>.</summary>
    public static char Of(byte b) => ByteToChar[b];

    /// <summary>The byte-level spelling of a text's UTF-8 bytes.</summary>
    public static string Spell(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text)) sb.Append(ByteToChar[b]);
        return sb.ToString();
    }
}
