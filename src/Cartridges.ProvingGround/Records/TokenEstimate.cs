// Counts pre-tokenizer pieces with the GPT-2 split pattern the records tokenizer uses. With the records
// vocabulary every piece of generated text is one token, so this is the token count without loading a model.
using System.Text.RegularExpressions;

namespace Cartridges.ProvingGround.Records;

/// <summary>Token count of records text under the records tokenizer.</summary>
public static partial class TokenEstimate
{
    /// <summary>The GPT-2 pre-tokenizer pattern (the tokenizers library's ByteLevel default).</summary>
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Pattern)]
    private static partial Regex Pieces();

    /// <summary>The pieces of <paramref name="text"/> in order.</summary>
    public static IEnumerable<string> Split(string text) => Pieces().Matches(text).Select(m => m.Value);

    /// <summary>Number of pieces.</summary>
    public static int Count(string text) => Pieces().Count(text);
}
