// Splits text the way a Hugging Face tokenizer does before BPE: added tokens first, leftmost-longest (as the
// AddedVocabulary matcher does), then each Split/ByteLevel regex in turn with "Isolated" behaviour, where both
// the matches and the gaps between them become pieces. Microsoft.ML.Tokenizers' RegexPreTokenizer keeps only
// matches and takes one regex, which is not enough for `Sequence` pre-tokenizers.
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Cartridges.Model.Tokenization;

sealed class HfPreTokenizer : PreTokenizer
{
    /// <summary>GPT-2's pre-tokenizer regex (openai/gpt-2 encoder.py; HF ByteLevel with use_regex).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    readonly Regex? _added;
    readonly IReadOnlyList<Regex> _splits;

    public HfPreTokenizer(IEnumerable<string> addedTokens, IReadOnlyList<Regex> splits)
    {
        // Longest first, so an alternation picks `<|im_start|>` over a shorter token that prefixes it.
        var alternatives = addedTokens.Where(t => t.Length > 0).Distinct(StringComparer.Ordinal)
            .OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal)
            .Select(Regex.Escape).ToList();
        _added = alternatives.Count == 0 ? null : new Regex(string.Join('|', alternatives), RegexOptions.CultureInvariant);
        _splits = splits;
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    /// <summary>
    /// The pieces of <paramref name="text"/> in order; added tokens come out as whole pieces where
    /// <paramref name="addedAllowed"/> (offset, length) says so (default: everywhere), and are split like any other
    /// text elsewhere.
    /// </summary>
    public List<(int Offset, int Length)> Split(ReadOnlySpan<char> text, Func<int, int, bool>? addedAllowed = null)
    {
        var pieces = new List<(int Offset, int Length)>();
        var start = 0;
        if (_added is not null)
        {
            foreach (var m in _added.EnumerateMatches(text))
            {
                if (addedAllowed is not null && !addedAllowed(m.Index, m.Length))
                    continue;
                SplitFrom(0, text, start, m.Index - start, pieces);
                pieces.Add((m.Index, m.Length));
                start = m.Index + m.Length;
            }
        }
        SplitFrom(0, text, start, text.Length - start, pieces);
        return pieces;
    }

    // Each level sees its segment as a whole string, as in HF, so `\s+(?!\S)` stops at the segment's end.
    void SplitFrom(int level, ReadOnlySpan<char> text, int offset, int length, List<(int Offset, int Length)> pieces)
    {
        if (length == 0)
            return;
        if (level == _splits.Count)
        {
            pieces.Add((offset, length));
            return;
        }
        var segment = text.Slice(offset, length);
        var position = 0;
        foreach (var m in _splits[level].EnumerateMatches(segment))
        {
            if (m.Length == 0)
                continue;
            SplitFrom(level + 1, text, offset + position, m.Index - position, pieces);
            SplitFrom(level + 1, text, offset + m.Index, m.Length, pieces);
            position = m.Index + m.Length;
        }
        SplitFrom(level + 1, text, offset + position, length - position, pieces);
    }
}
