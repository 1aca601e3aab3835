// A word-level vocabulary in the standard Hugging Face byte-level BPE format: the 256 byte tokens, then one
// token per pre-tokenizer piece of the records language (every name, number, month, drug, template word), with
// no merges and "ignore_merges": true, so a known piece is one token and anything else falls back to its bytes.
// Our HfTokenizer and the tokenizers library read it the same way. Llama-3 chat special tokens come last.
using System.Globalization;
using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Vocabulary;

/// <summary>Builds the records vocabulary from sample texts plus every value the generator can produce.</summary>
public static class RecordsVocabulary
{
    /// <summary>Llama-3 special tokens in id order (the "llama" chat template needs them).</summary>
    public static readonly IReadOnlyList<string> SpecialTokens =
        ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

    /// <summary>
    /// The word pieces (not byte-level spelled) of the vocabulary, most frequent in <paramref name="samples"/>
    /// first, then values the samples missed, in a fixed order. Deterministic for the same samples.
    /// </summary>
    public static IReadOnlyList<string> Pieces(IEnumerable<string> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in samples)
        {
            foreach (var piece in TokenEstimate.Split(text))
                counts[piece] = counts.GetValueOrDefault(piece) + 1;
        }
        var ordered = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
        var seen = new HashSet<string>(ordered, StringComparer.Ordinal);
        foreach (var value in AllValues())
        {
            if (seen.Add(value)) ordered.Add(value);
        }
        // Single characters are already byte tokens.
        return ordered.Where(p => System.Text.Encoding.UTF8.GetByteCount(p) > 1).ToList();
    }

    /// <summary>Every value the generator can write, with the leading space it always has in documents and answers.</summary>
    static IEnumerable<string> AllValues()
    {
        IEnumerable<string> words = RecordPools.FirstNames.Concat(RecordPools.Surnames).Concat(RecordPools.Physicians)
            .Concat(RecordPools.Diagnoses).Concat(RecordPools.Drugs).Concat(RecordPools.Months).Concat(RecordPools.Symptoms)
            .Concat(RecordPools.Wards).Concat(RecordPools.Labs.Select(l => l.Name));
        foreach (var w in words) yield return " " + w;
        for (var n = 0; n <= RecordPools.MaxPatientNumber; n++) yield return " " + n.ToString(CultureInfo.InvariantCulture);
        foreach (var d in RecordPools.Doses) yield return " " + d.ToString(CultureInfo.InvariantCulture);
        for (var y = RecordPools.MinBirthYear; y <= RecordPools.MaxVisitYear; y++) yield return " " + y.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The vocabulary as tokenizer.json expects it: byte tokens 0-255, then the pieces; specials follow at the returned id.</summary>
    public static (Dictionary<string, int> Vocab, int FirstSpecialId) Build(IReadOnlyList<string> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var b = 0; b < 256; b++) vocab[ByteLevelChars.Of((byte)b).ToString()] = b;
        foreach (var piece in pieces)
        {
            var spelled = ByteLevelChars.Spell(piece);
            if (!vocab.ContainsKey(spelled)) vocab[spelled] = vocab.Count;
        }
        return (vocab, vocab.Count);
    }
}
