// Writes tokenizer.json / tokenizer_config.json for the records vocabulary in the layout Llama-3 ships
// (Sequence[Split(GPT-2 regex, Isolated), ByteLevel] pre-tokenizer, ByteLevel decoder), as a BPE model with no
// merges and ignore_merges, which makes it word-level for known pieces and byte-level for everything else.
using System.Text.Encodings.Web;
using System.Text.Json;
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
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            for (var i = 0; i < RecordsVocabulary.SpecialTokens.Count; i++)
            {
                json.WriteStartObject();
                json.WriteNumber("id", firstSpecial + i);
                AddedTokenFields(json, RecordsVocabulary.SpecialTokens[i]);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNull("normalizer");
            json.WriteStartObject("pre_tokenizer");
            json.WriteString("type", "Sequence");
            json.WriteStartArray("pretokenizers");
            json.WriteStartObject();
            json.WriteString("type", "Split");
            json.WriteStartObject("pattern");
            json.WriteString("Regex", TokenEstimate.Pattern);
            json.WriteEndObject();
            json.WriteString("behavior", "Isolated");
            json.WriteBoolean("invert", false);
            json.WriteEndObject();
            ByteLevel(json, null, useRegex: false);
            json.WriteEndArray();
            json.WriteEndObject();
            ByteLevel(json, "post_processor", useRegex: true);
            ByteLevel(json, "decoder", useRegex: true);
            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteBoolean("byte_fallback", false);
            json.WriteBoolean("ignore_merges", true);
            json.WriteStartObject("vocab");
            foreach (var (token, id) in vocab.OrderBy(kv => kv.Value)) json.WriteNumber(token, id);
            json.WriteEndObject();
            json.WriteStartArray("merges");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
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

    static void ByteLevel(Utf8JsonWriter json, string? name, bool useRegex)
    {
        if (name is null) json.WriteStartObject();
        else json.WriteStartObject(name);
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", false);
        json.WriteBoolean("trim_offsets", true);
        json.WriteBoolean("use_regex", useRegex);
        json.WriteEndObject();
    }
}
