// Test strings for tokenizer comparisons: hand-picked hard cases plus seeded random mixes of scripts,
// digits, punctuation and whitespace. None contains a special token.
using System.Text;

namespace Cartridges.Model.Tests.Tokenization;

static class TextCorpus
{
    public static readonly string[] Handpicked =
    [
        "",
        "Hello world",
        "Hello, world! How's it going? I'm fine, you'll see; they've WE'RE IT'S",
        "    leading spaces and trailing   ",
        "multiple   spaces\tand\t\ttabs\n\nand\r\nCRLF\r\n\r\n",
        "\n\n\n",
        " ",
        "日本語のテキストと中文文本，还有한국어",
        "emoji 😀👍🏽🇫🇷 👨‍👩‍👧‍👦 and ✨",
        "café naïve résumé Ångström façade Œuvre",
        "Ελληνικά Русский текст עברית العربية हिन्दी",
        "numbers 1234567890 3.14159 -42 1e-9 0x1F 1,000,000",
        "def f(x):\n    return x ** 2  # square\n\nprint(f(3))",
        "{\"json\": [1, 2, {\"a\": null}], \"s\": \"\\u00e9\"}",
        "URLs https://example.com/path?q=1&r=2#frag and emails a.b@c.org",
        "Ġ weird ĠĠ chars Ċ ĉ",
        "\u00A0nbsp\u2003em\u3000ideographic\u200Bzero-width",
        "<|not a special|> <| also |> <|endoftext",
        "'s's 's ''''  '' 'll",
        "ZWJ\u200D and combining e\u0301 a\u0308",
    ];

    /// <summary>Seeded random strings mixing the pieces tokenizers split differently.</summary>
    public static IEnumerable<string> Random(int count, int seed = 1234)
    {
        string[] atoms =
        [
            "the", " the", "The", "ing", " quick", "brown", "'s", "'re", "'LL", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n",
            "0", "7", "42", "1234", "3.5", ".", ",", "!", "?", "...", "--", "(", ")", "\"", "'", "#", "$", "%", "->",
            "é", "ü", "ñ", "ç", "日", "本", "語", "中", "文", "한", "ㄱ", "😀", "👍🏽", "🇯🇵", "∑", "√", "€", "£", "—", "…",
            "α", "β", "Ж", "ж", "ש", "ع", "क", "\u00A0", "\u3000", "\u0301", "Ġ", "Ċ",
        ];
        var random = new System.Random(seed);
        for (var i = 0; i < count; i++)
        {
            var text = new StringBuilder();
            var parts = random.Next(1, 40);
            for (var p = 0; p < parts; p++)
                text.Append(atoms[random.Next(atoms.Length)]);
            yield return text.ToString();
        }
    }
}
