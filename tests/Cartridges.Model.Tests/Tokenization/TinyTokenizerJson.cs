// A hand-made byte-level BPE tokenizer.json small enough to reason about: the 256 byte tokens (id = byte), a few
// merges, and added tokens. Tests change parts of it (merge spelling, pre-tokenizer, flags) to probe the loader.
using System.Text.Json.Nodes;
using Cartridges.Model.Tokenization;

namespace Cartridges.Model.Tests.Tokenization;

static class TinyTokenizerJson
{
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // Ids 256.. in merge-priority order. "34" before "12" makes a single-piece "12345" merge differently from
    // the Llama-3 split "123" | "45", so tests can tell which pre-tokenizer ran.
    public static readonly (string Left, string Right)[] Merges =
    [
        ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("l", "d"),
        ("Ġwor", "ld"), ("3", "4"), ("1", "2"), ("12", "3"),
    ];

    public const int Hello = 259, SpaceWorld = 264, ThirtyFour = 265, Twelve = 266, OneTwoThree = 267, Xyz = 268;
    public const int EotId = 269, Tool = 270;

    public static JsonObject Build(bool pairMerges = true)
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
            vocab[ByteLevelAlphabet.ToChar((byte)b).ToString()] = b;
        var merges = new JsonArray();
        var id = 256;
        foreach (var (left, right) in Merges)
        {
            vocab[left + right] = id++;
            merges.Add(pairMerges ? new JsonArray(left, right) : JsonValue.Create($"{left} {right}"));
        }
        vocab["xyz"] = Xyz;   // reachable by no merge: only ignore_merges finds it

        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                AddedToken(EotId, "<|eot_id|>", special: true),
                AddedToken(Tool, "<tool>", special: false)),
            ["normalizer"] = null,
            ["pre_tokenizer"] = SequencePreTokenizer(Llama3Pattern),
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["byte_fallback"] = false,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
    }

    public static JsonObject SequencePreTokenizer(string pattern) => new()
    {
        ["type"] = "Sequence",
        ["pretokenizers"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "Split",
                ["pattern"] = new JsonObject { ["Regex"] = pattern },
                ["behavior"] = "Isolated",
                ["invert"] = false,
            },
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
    };

    public static string WriteTo(string dir, JsonNode tokenizerJson, string? configJson = null)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizerJson.ToJsonString());
        if (configJson is not null)
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), configJson);
        return dir;
    }

    static JsonObject AddedToken(int id, string content, bool special) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = special,
    };
}
