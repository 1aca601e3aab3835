// Reading the corpus for self-study (method §3): strict UTF-8, so a binary or mis-encoded file is refused with
// a clear error instead of being silently turned into replacement characters that the cartridge would learn.
using System.Security.Cryptography;
using System.Text;

namespace Cartridges.Training.Synthesis;

/// <summary>Loads and fingerprints corpus text.</summary>
public static class CorpusText
{
    static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a UTF-8 text file (a leading BOM is dropped); rejects invalid UTF-8 and empty files.</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid UTF-8, or the file holds no text.</exception>
    public static string Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: corpus file not found.", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Decodes corpus bytes named `source` in errors; same rules as <see cref="Read"/>.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) bytes = bytes[3..];
        string text;
        try
        {
            text = Strict.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            var at = e.Index >= 0 ? $" near byte {e.Index}" : "";
            throw new InvalidDataException($"{source}: the corpus is not valid UTF-8{at}; convert it to UTF-8 text first.", e);
        }
        Validate(text, source);
        return text;
    }

    /// <summary>Throws when the text is empty or only whitespace.</summary>
    public static void Validate(string text, string source = "corpus")
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{source}: the corpus is empty.");
    }

    /// <summary>Lower-case hex SHA-256 of the text's UTF-8 bytes (ties a dataset to its corpus).</summary>
    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
