using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Errors;

/// <summary>Broken model directories give errors that name the file and the problem.</summary>
public sealed class ModelLoadErrorTests : IDisposable
{
    readonly string _dir = TestModels.TempDir();

    public ModelLoadErrorTests()
    {
        var src = TestModels.Dir(ModelFamily.Llama);
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
    }

    public void Dispose() => Directory.Delete(_dir, true);

    string PathOf(string name) => Path.Combine(_dir, name);

    ModelLoadException LoadFails() => Assert.Throws<ModelLoadException>(() => TransformerModel.Load(_dir, CPU, ScalarType.Float32));

    [Fact]
    public void MissingConfig()
    {
        File.Delete(PathOf("config.json"));
        Assert.Contains("config.json not found", LoadFails().Message);
    }

    [Fact]
    public void CorruptConfig()
    {
        File.WriteAllText(PathOf("config.json"), "{ \"hidden_size\": 256,");
        Assert.Contains("not valid JSON", LoadFails().Message);
    }

    [Fact]
    public void UnsupportedArchitecture()
    {
        File.WriteAllText(PathOf("config.json"), File.ReadAllText(PathOf("config.json")).Replace("LlamaForCausalLM", "MistralForCausalLM"));
        var e = LoadFails();
        Assert.Contains("unsupported architecture MistralForCausalLM", e.Message);
    }

    [Fact]
    public void ShapeMismatch()
    {
        File.WriteAllText(PathOf("config.json"), File.ReadAllText(PathOf("config.json")).Replace("\"intermediate_size\": 768", "\"intermediate_size\": 512"));
        var e = LoadFails();
        Assert.Contains("mlp.gate_proj.weight", e.Message);
        Assert.Contains("[768, 256]", e.Message);
        Assert.Contains("[512, 256]", e.Message);
    }

    [Theory]
    [InlineData("\"mlp_bias\": true", "mlp_bias = true is not supported")]
    [InlineData("\"use_sliding_window\": true", "use_sliding_window = true is not supported")]
    [InlineData("\"partial_rotary_factor\": 0.5", "partial_rotary_factor 0.5 is not supported")]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}", "rope_scaling type 'yarn' is not supported")]
    public void SettingsTheRuntimeDoesNotImplement_AreRefusedByName(string setting, string expected)
    {
        // Written last, so it wins over the same key earlier in the file (JSON readers keep the last value).
        var config = File.ReadAllText(PathOf("config.json")).TrimEnd();
        File.WriteAllText(PathOf("config.json"), config[..^1].TrimEnd() + ", " + setting + "}");
        Assert.Contains(expected, LoadFails().Message);
    }

    [Fact]
    public void InconsistentHeads()
    {
        File.WriteAllText(PathOf("config.json"), File.ReadAllText(PathOf("config.json")).Replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
        Assert.Contains("multiple of num_key_value_heads", LoadFails().Message);
    }

    [Fact]
    public void MissingWeights()
    {
        File.Delete(PathOf("model.safetensors"));
        Assert.Contains("expected model.safetensors or model.safetensors.index.json", LoadFails().Message);
    }

    [Fact]
    public void TruncatedHeader()
    {
        var bytes = File.ReadAllBytes(PathOf("model.safetensors"));
        File.WriteAllBytes(PathOf("model.safetensors"), bytes[..100]);
        Assert.Contains("truncated safetensors header", LoadFails().Message);
    }

    [Fact]
    public void TruncatedData()
    {
        var bytes = File.ReadAllBytes(PathOf("model.safetensors"));
        File.WriteAllBytes(PathOf("model.safetensors"), bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated file", LoadFails().Message);
    }

    [Fact]
    public void TooShortForAHeader()
    {
        File.WriteAllBytes(PathOf("model.safetensors"), [1, 2, 3]);
        Assert.Contains("no header length", LoadFails().Message);
    }

    [Fact]
    public void GarbageHeader()
    {
        var junk = new byte[64];
        BitConverter.GetBytes(40L).CopyTo(junk, 0);
        "not json at all".Select(c => (byte)c).ToArray().CopyTo(junk, 8);
        File.WriteAllBytes(PathOf("model.safetensors"), junk);
        Assert.Contains("header is not valid JSON", LoadFails().Message);
    }

    [Fact]
    public void UntiedConfigWithoutLmHead()
    {
        File.WriteAllText(PathOf("config.json"), File.ReadAllText(PathOf("config.json")).Replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false"));
        Assert.Contains("lm_head.weight", LoadFails().Message);
    }

    [Fact]
    public void MissingTokenizer()
    {
        File.Delete(PathOf("tokenizer.json"));
        var e = Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(_dir));
        Assert.Contains("tokenizer.json", e.Message);
    }
}
