// Reads a Hugging Face `tokenizer.json` (tokenizers library format) and `tokenizer_config.json` into what
// HfTokenizer needs, rejecting anything it cannot reproduce exactly with a message naming file and problem.
// Supported: model BPE over the GPT-2 byte alphabet (GPT-2, Llama-3, Qwen2/3), normalizer none or NFC,
// pre-tokenizer ByteLevel or Sequence of Split(Isolated) + ByteLevel, decoder ByteLevel.
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cartridges.Model.Tokenization;

static class TokenizerJsonReader
{
    public static TokenizerDefinition Read(string path)
    {
        using var doc = Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw Bad(path, "the top level is not a JSON object");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Bad(path, "no 'model' object");

        var type = OptionalString(model, "type");
        if (type is null && !model.TryGetProperty("merges", out _))
            throw Bad(path, "'model' has no 'type' and no 'merges'");
        if (type is not null and not "BPE")
            throw Bad(path, $"model type '{type}' is not supported (only byte-level BPE)");
        if (model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
            throw Bad(path, "BPE with byte_fallback (SentencePiece style) is not supported (only byte-level BPE)");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (!string.IsNullOrEmpty(OptionalString(model, affix)))
                throw Bad(path, $"BPE with '{affix}' is not supported (only byte-level BPE)");
        }

        var vocab = ReadVocab(path, model);
        var merges = ReadMerges(path, model);
        CheckByteAlphabet(path, vocab);
        ReadDecoder(path, root);
        return new TokenizerDefinition(
            vocab,
            merges,
            ReadAddedTokens(path, root),
            ReadPreTokenizer(path, root),
            IgnoreMerges: model.TryGetProperty("ignore_merges", out var ignore) && ignore.ValueKind == JsonValueKind.True,
            NfcNormalize: ReadNormalizer(path, root));
    }

    /// <summary>bos/eos/pad token strings from tokenizer_config.json, all null when the file is absent.</summary>
    public static (string? Bos, string? Eos, string? Pad) ReadConfig(string path)
    {
        if (!File.Exists(path))
            return (null, null, null);
        using var doc = Parse(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw Bad(path, "the top level is not a JSON object");
        return (TokenName(path, doc.RootElement, "bos_token"),
                TokenName(path, doc.RootElement, "eos_token"),
                TokenName(path, doc.RootElement, "pad_token"));
    }

    static JsonDocument Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    static Dictionary<string, int> ReadVocab(string path, JsonElement model)
    {
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw Bad(path, "'model.vocab' is missing or not an object of token -> id");
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw Bad(path, $"'model.vocab' entry '{entry.Name}' has no valid id");
            result[entry.Name] = id;
        }
        if (result.Count == 0)
            throw Bad(path, "'model.vocab' is empty");
        return result;
    }

    // BpeTokenizer silently drops characters it has no token for, so a byte-level vocabulary must cover all bytes.
    static void CheckByteAlphabet(string path, Dictionary<string, int> vocab)
    {
        var missing = Enumerable.Range(0, 256).Where(b => !vocab.ContainsKey(ByteLevelAlphabet.ToChar((byte)b).ToString())).ToList();
        if (missing.Count > 0)
            throw Bad(path, $"'model.vocab' lacks {missing.Count} of the 256 byte-level byte tokens (first: byte 0x{missing[0]:X2}); it is not a byte-level BPE vocabulary");
    }

    // Two spellings exist: "left right" (tokenizers < 0.20) and ["left", "right"] (newer files).
    static List<string> ReadMerges(string path, JsonElement model)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
            throw Bad(path, "'model.merges' is missing or not an array");
        var result = new List<string>(merges.GetArrayLength());
        var index = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            string? left = null, right = null;
            if (merge.ValueKind == JsonValueKind.String)
            {
                var parts = merge.GetString()!.Split(' ');
                if (parts.Length == 2)
                    (left, right) = (parts[0], parts[1]);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                     && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                (left, right) = (merge[0].GetString(), merge[1].GetString());
            }
            // Byte-level tokens never hold a space (it is spelled Ġ), and BpeOptions needs "left right".
            if (string.IsNullOrEmpty(left) || string.IsNullOrEmpty(right) || left.Contains(' ') || right.Contains(' '))
                throw Bad(path, $"'model.merges'[{index}] is not a pair of tokens: {merge.GetRawText()}");
            result.Add($"{left} {right}");
            index++;
        }
        return result;
    }

    static List<AddedToken> ReadAddedTokens(string path, JsonElement root)
    {
        var result = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null)
            return result;
        if (added.ValueKind != JsonValueKind.Array)
            throw Bad(path, "'added_tokens' is not an array");
        // lstrip/rstrip/single_word are false for every tokenizer this runtime targets, so they are not modelled.
        foreach (var token in added.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Object
                || !token.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out var value) || value < 0
                || OptionalString(token, "content") is not { Length: > 0 } content)
            {
                throw Bad(path, $"'added_tokens' entry {token.GetRawText()} needs an 'id' and a non-empty 'content'");
            }
            var special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            result.Add(new AddedToken(value, content, special));
        }
        return result;
    }

    static bool ReadNormalizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind == JsonValueKind.Null)
            return false;
        var type = OptionalString(normalizer, "type");
        if (type == "NFC")
            return true;
        if (type == "Sequence" && normalizer.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array
            && list.EnumerateArray().All(n => OptionalString(n, "type") == "NFC"))
        {
            return list.GetArrayLength() > 0;
        }
        throw Bad(path, $"normalizer {normalizer.GetRawText()} is not supported (only none or NFC)");
    }

    static List<Regex> ReadPreTokenizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
            throw Bad(path, "no 'pre_tokenizer'; byte-level BPE needs a ByteLevel pre-tokenizer");
        var steps = OptionalString(pre, "type") == "Sequence" && pre.TryGetProperty("pretokenizers", out var list)
            && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().ToList()
            : [pre];

        var splits = new List<Regex>();
        var byteLevel = false;
        foreach (var step in steps)
        {
            switch (OptionalString(step, "type"))
            {
                case "Split":
                    splits.Add(ReadSplit(path, step));
                    break;
                case "ByteLevel":
                    if (step.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind == JsonValueKind.True)
                        throw Bad(path, "ByteLevel pre-tokenizer with add_prefix_space=true is not supported");
                    // use_regex defaults to true in the tokenizers library.
                    if (!step.TryGetProperty("use_regex", out var useRegex) || useRegex.ValueKind != JsonValueKind.False)
                        splits.Add(Compile(path, HfPreTokenizer.Gpt2Pattern));
                    byteLevel = true;
                    break;
                default:
                    throw Bad(path, $"pre-tokenizer {step.GetRawText()} is not supported (only Split and ByteLevel)");
            }
        }
        if (!byteLevel)
            throw Bad(path, "the pre-tokenizer has no ByteLevel step; only byte-level BPE is supported");
        return splits;
    }

    static Regex ReadSplit(string path, JsonElement split)
    {
        var behavior = OptionalString(split, "behavior");
        var inverted = split.TryGetProperty("invert", out var invert) && invert.ValueKind == JsonValueKind.True;
        if (behavior != "Isolated" || inverted)
            throw Bad(path, $"Split pre-tokenizer with behavior '{behavior}'{(inverted ? " and invert" : "")} is not supported (only Isolated)");
        if (!split.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object)
            throw Bad(path, "Split pre-tokenizer has no 'pattern' object");
        if (OptionalString(pattern, "Regex") is { } regex)
            return Compile(path, regex);
        if (OptionalString(pattern, "String") is { Length: > 0 } literal)
            return Compile(path, Regex.Escape(literal));
        throw Bad(path, $"Split pattern {pattern.GetRawText()} has neither 'Regex' nor 'String'");
    }

    static void ReadDecoder(string path, JsonElement root)
    {
        if (!root.TryGetProperty("decoder", out var decoder) || decoder.ValueKind == JsonValueKind.Null)
            return;
        var type = OptionalString(decoder, "type");
        if (type != "ByteLevel")
            throw Bad(path, $"decoder type '{type}' is not supported (only ByteLevel)");
    }

    // The hub's patterns are written for Oniguruma/Rust regex; the ones in use (GPT-2, Llama-3, Qwen2) mean the
    // same in .NET. Possessive quantifiers and other syntax .NET lacks end up here with a clear message.
    static Regex Compile(string path, string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: pre-tokenizer regex is not usable in .NET ({e.Message}): {pattern}", e);
        }
    }

    // bos_token and friends are strings, null, or AddedToken objects {"content": ...}.
    static string? TokenName(string path, JsonElement config, string key)
    {
        if (!config.TryGetProperty(key, out var value))
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when OptionalString(value, "content") is { } content => content,
            _ => throw Bad(path, $"'{key}' is neither a string nor an object with 'content': {value.GetRawText()}"),
        };
    }

    static string? OptionalString(JsonElement element, string key) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    static InvalidDataException Bad(string path, string problem) => new($"{path}: {problem}");
}
