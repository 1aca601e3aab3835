// Writes tokenizer.json / tokenizer_config.json for the records vocabulary in the layout Llama-3 ships
// (Sequence[Split(GPT-2 regex, Isolated), ByteLevel] pre-tokenizer, ByteLevel decoder), as a BPE model with no
// merges and ignore_merges, which makes it word-level for known pieces and byte-level for everything else.
using System.Text.Encodings.Web;
using System.Text.Json;
using Cartridges.Model.Tokenization;
using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Vocabulary;

/// <summary>Writes the records tokenizer files into a model directory.</summary>
public static class TokenizerJsonWriter
{
    static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes both files; returns the number of ids (vocabulary + special tokens).</summary>
    public static int Write(string modelDir, IReadOnlyList<string> pieces)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDir);
        var (vocab, firstSpecial) = RecordsVocabulary.Build(pieces);
        Directory.CreateDirectory(modelDir);
        File.WriteAllBytes(Path.Combine(modelDir, "tokenizer.json"), TokenizerJson(vocab, firstSpecial));
        File.WriteAllBytes(Path.Combine(modelDir, "tokenizer_config.json"), ConfigJson(firstSpecial));
        return firstSpecial + RecordsVocabulary.SpecialTokens.Count;
    }

    static byte[] TokenizerJson(Dictionary<string, int> vocab, int firstSpecial)
    {
        var tokens = vocab.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        if (tokens.Length != firstSpecial || vocab.Values.Max() != firstSpecial - 1)
            throw new InvalidOperationException("The records vocabulary must number its pieces 0 .. n-1 before the special tokens.");
        // No merges and ignore_merges: known pieces are single tokens, everything else falls back to bytes.
        return TokenizerFiles.ByteLevelBpeJson(tokens, [], RecordsVocabulary.SpecialTokens, firstSpecial, TokenEstimate.Pattern, ignoreMerges: true);
    }

    static byte[] ConfigJson(int firstSpecial)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteStartObject("added_tokens_decoder");
            for (var i = 0; i < RecordsVocabulary.SpecialTokens.Count; i++)
            {
                json.WriteStartObject((firstSpecial + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
                AddedTokenFields(json, RecordsVocabulary.SpecialTokens[i]);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteString("bos_token", "<|begin_of_text|>");
            json.WriteBoolean("clean_up_tokenization_spaces", false);
            json.WriteString("eos_token", "<|eot_id|>");
            json.WriteNull("pad_token");
            json.WriteNumber("model_max_length", 4096);
            json.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    static void AddedTokenFields(Utf8JsonWriter json, string content)
    {
        json.WriteString("content", content);
        json.WriteBoolean("single_word", false);
        json.WriteBoolean("lstrip", false);
        json.WriteBoolean("rstrip", false);
        json.WriteBoolean("normalized", false);
        json.WriteBoolean("special", true);
    }
}
