// What HfTokenizer needs from a tokenizer.json, already validated: the byte-level BPE model plus the
// pre-tokenizer and normalizer settings that this runtime supports.
using System.Text.RegularExpressions;

namespace Cartridges.Model.Tokenization;

/// <summary>A parsed byte-level BPE tokenizer.json (merges in BpeOptions' "left right" form).</summary>
sealed record TokenizerDefinition(
    IReadOnlyDictionary<string, int> Vocab,
    IReadOnlyList<string> Merges,
    IReadOnlyList<AddedToken> AddedTokens,
    IReadOnlyList<Regex> Splits,
    bool IgnoreMerges,
    bool NfcNormalize);
