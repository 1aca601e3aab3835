// Loading tokenizer.json variants (merge spellings, pre-tokenizer shapes, flags) from a hand-made tiny
// tokenizer, and the errors for missing, corrupt and unsupported files.
using System.Text.Json.Nodes;
using Cartridges.Model.Tokenization;
using static Cartridges.Model.Tests.Tokenization.TinyTokenizerJson;

namespace Cartridges.Model.Tests.Tokenization;

public sealed class HfTokenizerLoadTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), "cartridges-tokload-" + Guid.NewGuid().ToString("N"));
    int _dirs;

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Load_TinyLlama3StyleSequence_EncodesAsExpected(bool pairMerges)
    {
        var tok = Load(Build(pairMerges));

        // "hello" | " world" | "123" | "45" | <|eot_id|>: the Llama-3 regex caps digit runs at three.
        var ids = tok.Encode("hello world12345<|eot_id|>", specialTokens: true);

        Assert.Equal(new[] { Hello, SpaceWorld, OneTwoThree, '4', '5', EotId }, ids);
        Assert.Equal("hello world12345<|eot_id|>", tok.Decode(ids));
        Assert.Equal(Tool + 1, tok.VocabSize);   // max id + 1, added tokens included
    }

    [Fact]
    public void Load_ByteLevelWithRegex_UsesGpt2Split()
    {
        var json = Build();
        json["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };

        // GPT-2's regex keeps "12345" whole, so "34" (earlier merge) wins over "12" -> "123".
        Assert.Equal(new[] { Hello, SpaceWorld, Twelve, ThirtyFour, '5' }, Load(json).Encode("hello world12345"));
    }

    [Fact]
    public void Load_SplitGaps_AreKeptAsPieces()
    {
        // "Isolated" keeps the text between matches; dropping it would lose "ab" and "cd".
        var json = Build();
        json["pre_tokenizer"] = SequencePreTokenizer(@"\p{N}+");
        var tok = Load(json);

        var ids = tok.Encode("ab12cd");

        Assert.Equal(new[] { 'a', 'b', Twelve, 'c', 'd' }, ids);
        Assert.Equal("ab12cd", tok.Decode(ids));
    }

    [Theory]
    [InlineData(true, new[] { Xyz })]
    [InlineData(false, new[] { 120, 121, 122 })]
    public void Load_IgnoreMerges_TakesWholeVocabularyWords(bool ignoreMerges, int[] expected)
    {
        var json = Build();
        json["model"]!["ignore_merges"] = ignoreMerges;

        Assert.Equal(expected, Load(json).Encode("xyz"));
    }

    [Fact]
    public void Load_NonSpecialAddedToken_IsMatchedAndSurvivesSkipSpecial()
    {
        var tok = Load(Build());

        var ids = tok.Encode("a<tool>b<|eot_id|>", specialTokens: true);

        Assert.Equal(new[] { 'a', Tool, 'b', EotId }, ids);
        Assert.Equal("a<tool>b", tok.Decode(ids, skipSpecial: true));
    }

    [Fact]
    public void Load_ConfigTokensAsStringsOrObjects_Resolve()
    {
        var dir = WriteTo(NewDir(), Build(), """
            {"bos_token": {"__type": "AddedToken", "content": "<tool>"}, "eos_token": "<|eot_id|>", "pad_token": null}
            """);

        var tok = HfTokenizer.Load(dir);

        Assert.Equal(Tool, tok.BosId);
        Assert.Equal(EotId, tok.EosId);
        Assert.Null(tok.PadId);
    }

    [Fact]
    public void Load_NoConfig_LeavesRolesUnset()
    {
        var tok = Load(Build());
        Assert.Null(tok.BosId);
        Assert.Null(tok.EosId);
        Assert.Null(tok.PadId);
    }

    [Fact]
    public void Load_MissingTokenizerJson_ThrowsFileNotFoundNamingIt()
    {
        var dir = NewDir();
        Directory.CreateDirectory(dir);

        var e = Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(dir));

        Assert.Equal(Path.Combine(dir, "tokenizer.json"), e.FileName);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void Load_MissingDirectory_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(Path.Combine(_root, "does-not-exist")));
    }

    [Fact]
    public void Load_CorruptJson_ThrowsInvalidDataNamingFile()
    {
        var dir = NewDir();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {");

        var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.Load(dir));

        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    [InlineData("WordLevel")]
    public void Load_UnsupportedModelType_NamesIt(string type)
    {
        var json = Build();
        json["model"]!["type"] = type;

        var e = Assert.Throws<InvalidDataException>(() => Load(json));

        Assert.Contains($"model type '{type}' is not supported", e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    public static TheoryData<string, string, string> BrokenParts => new()
    {
        { "model", """{"type": "BPE", "merges": []}""", "'model.vocab'" },
        { "model", """{"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}""", "'model.merges'[0]" },
        { "model", """{"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": true}""", "byte_fallback" },
        { "model", """{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}""", "lacks 254 of the 256 byte-level byte tokens" },
        { "pre_tokenizer", """{"type": "Metaspace", "replacement": "▁"}""", "Metaspace" },
        { "pre_tokenizer", """{"type": "ByteLevel", "add_prefix_space": true}""", "add_prefix_space" },
        { "pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": false}""", "Removed" },
        { "pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "a++"}, "behavior": "Isolated", "invert": false}""", "a++" },
        { "normalizer", """{"type": "Lowercase"}""", "Lowercase" },
        { "decoder", """{"type": "Metaspace"}""", "decoder type 'Metaspace'" },
    };

    [Theory]
    [MemberData(nameof(BrokenParts))]
    public void Load_UnsupportedOrBrokenPart_NamesTheProblem(string key, string partJson, string expected)
    {
        var json = Build();
        json[key] = JsonNode.Parse(partJson);

        var e = Assert.Throws<InvalidDataException>(() => Load(json));

        Assert.Contains(expected, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void Load_CorruptConfig_ThrowsNamingConfigFile()
    {
        var dir = WriteTo(NewDir(), Build(), "{ bos_token: ");

        var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.Load(dir));

        Assert.Contains("tokenizer_config.json", e.Message);
    }

    [Fact]
    public void Load_ConfigNamesUnknownToken_ThrowsNamingIt()
    {
        var dir = WriteTo(NewDir(), Build(), """{"eos_token": "</s>"}""");

        var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.Load(dir));

        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("eos_token '</s>'", e.Message);
    }

    HfTokenizer Load(JsonNode json) => HfTokenizer.Load(WriteTo(NewDir(), json));

    string NewDir() => Path.Combine(_root, (++_dirs).ToString(System.Globalization.CultureInfo.InvariantCulture));
}
