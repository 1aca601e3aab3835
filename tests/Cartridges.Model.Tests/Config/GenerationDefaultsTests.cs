using Cartridges.Model.Config;

namespace Cartridges.Model.Tests.Config;

/// <summary>generation_config.json: what a request that leaves sampling settings out gets.</summary>
public sealed class GenerationDefaultsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("gencfg-").FullName;

    GenerationDefaults Load(string json)
    {
        File.WriteAllText(Path.Combine(_dir, GenerationDefaults.FileName), json);
        return GenerationDefaults.Load(_dir);
    }

    [Fact]
    public void NoFile_FallsBackToOpenAisDefaults()
    {
        var d = GenerationDefaults.Load(_dir);
        Assert.Equal(GenerationDefaults.None, d);
        Assert.Equal((1f, 1f, 0), d.Resolve(null, null, null));
    }

    [Fact]
    public void Qwen3sFile_GivesItsTemperatureTopPAndTopK_AndTheRequestWins()
    {
        // The values of Qwen/Qwen3-4B's generation_config.json.
        var d = Load("""{"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643], "pad_token_id": 151643, "temperature": 0.6, "top_k": 20, "top_p": 0.95}""");
        Assert.Equal((0.6f, 0.95f, 20), d.Resolve(null, null, null));
        Assert.Equal((0f, 0.95f, 20), d.Resolve(0f, null, null));
        Assert.Equal((1.2f, 0.5f, 3), d.Resolve(1.2f, 0.5f, 3));
    }

    [Fact]
    public void DoSampleFalse_IsGreedy_AndNegativeTopKIsOff()
    {
        Assert.Equal((0f, 1f, 0), Load("""{"do_sample": false, "temperature": 0.6, "top_k": -1}""").Resolve(null, null, null));
        Assert.Equal((1f, 0.9f, 0), Load("""{"top_p": 0.9}""").Resolve(null, null, null));
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1, 2]", "must hold a JSON object")]
    [InlineData("""{"temperature": -1}""", "temperature must be >= 0")]
    [InlineData("""{"top_p": 1.5}""", "top_p must be in (0, 1]")]
    public void BadFiles_AreRefusedByName(string json, string message)
    {
        var e = Assert.Throws<ModelLoadException>(() => Load(json));
        Assert.Contains("generation_config.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
