// The GPT-2-based tokenizer files: merges derived from tiktoken ranks, the Llama-3/Qwen3 file layout, sizes.
using System.Text.Json;
using Cartridges.Model.Tokenization;
using Xunit.Abstractions;

namespace Cartridges.Model.Tests.Tokenization;

public sealed class TokenizerFilesTests(Gpt2TokenizerFixture fixture, ITestOutputHelper output) : IClassFixture<Gpt2TokenizerFixture>
{
    [Fact]
    public void Gpt2Merges_DerivedFromTiktokenRanks()
    {
        var data = Gpt2BpeData.Instance;

        Assert.Equal(50256, data.Tokens.Count);
        Assert.Equal(50000, data.Merges.Count);
        Assert.Equal(("Ġ", "t"), data.Merges[0]);          // GPT-2's merges.txt starts "Ġ t", "Ġ a"
        Assert.Equal(("Ġ", "a"), data.Merges[1]);
        Assert.Equal("Ġthe", data.Tokens[262]);
        output.WriteLine($"deriving GPT-2 merges took {data.DerivationTime.TotalMilliseconds:F0} ms");
        // Printed, not asserted: timings on these shared machines are noise (~0.3 s is typical).
    }

    [Fact]
    public void WriteGpt2Based_Qwen3_WritesLlama3StyleLayout()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixture.Qwen3Dir, "tokenizer.json")));
        var root = doc.RootElement;

        var pre = root.GetProperty("pre_tokenizer");
        Assert.Equal("Sequence", pre.GetProperty("type").GetString());
        Assert.Equal("Split", pre.GetProperty("pretokenizers")[0].GetProperty("type").GetString());
        Assert.Equal("ByteLevel", pre.GetProperty("pretokenizers")[1].GetProperty("type").GetString());
        var merges = root.GetProperty("model").GetProperty("merges");
        Assert.Equal(50000, merges.GetArrayLength());
        Assert.Equal(JsonValueKind.Array, merges[0].ValueKind);
        Assert.Equal(
            new[] { "<|endoftext|>", "<|im_start|>", "<|im_end|>" },
            root.GetProperty("added_tokens").EnumerateArray().Select(t => t.GetProperty("content").GetString()));
        Assert.Equal(50256, root.GetProperty("added_tokens")[0].GetProperty("id").GetInt32());
    }

    [Fact]
    public void WriteGpt2Based_Llama3_ConfigNamesBosAndEos()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixture.Llama3Dir, "tokenizer_config.json")));

        Assert.Equal("<|begin_of_text|>", doc.RootElement.GetProperty("bos_token").GetString());
        Assert.Equal("<|eot_id|>", doc.RootElement.GetProperty("eos_token").GetString());
    }

    [Fact]
    public void WriteGpt2Based_CreatesTheDirectory_AndRewritesIdentically()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cartridges-tokfiles-" + Guid.NewGuid().ToString("N"), "nested");
        try
        {
            TokenizerFiles.WriteGpt2Based(dir, TokenizerFlavor.Llama3);
            Assert.Equal(
                File.ReadAllBytes(Path.Combine(fixture.Llama3Dir, "tokenizer.json")),
                File.ReadAllBytes(Path.Combine(dir, "tokenizer.json")));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Theory]
    [InlineData(TokenizerFlavor.Llama3)]
    [InlineData(TokenizerFlavor.Qwen3)]
    public void VocabSizeFor_PadsTheTokenCountToAMultipleOf64(TokenizerFlavor flavor)
    {
        var size = TokenizerFiles.VocabSizeFor(flavor);

        Assert.Equal(50304, size);
        Assert.Equal(0, size % 64);
        Assert.InRange(fixture.For(flavor).VocabSize, size - 63, size);
    }
}
