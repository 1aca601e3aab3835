// Writes a complete, loadable model directory with seeded random weights and a real tokenizer vocabulary,
// so tests and benchmarks go through exactly the loading path real checkpoints use.
using Cartridges.Model.Config;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Model.Presets;

/// <summary>Creates random-weight model directories (config.json, model.safetensors, tokenizer files).</summary>
public static class RandomModelWriter
{
    /// <summary>Seeded random weights for a config: N(0, 0.02) matrices, norms near 1 so they matter.</summary>
    public static Dictionary<string, Tensor> RandomWeights(ModelConfig config, long seed)
    {
        var gen = new Generator((ulong)seed);
        var result = new Dictionary<string, Tensor>();
        using var _ = no_grad();
        foreach (var (name, shape) in WeightNames.Expected(config))
        {
            result[name] = shape.Length == 1
                ? 1.0f + 0.1f * randn(shape, generator: gen)
                : 0.02f * randn(shape, generator: gen);
        }
        return result;
    }

    /// <summary>Writes config.json, model.safetensors (in `storeAs`) and the tokenizer files.</summary>
    public static void Write(string dir, ModelConfig config, IReadOnlyDictionary<string, Tensor> weights, ScalarType storeAs)
    {
        Directory.CreateDirectory(dir);
        var stored = config with { TorchDtype = storeAs switch { ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32" } };
        var flavor = ModelPresets.FlavorOf(config.Family);
        TokenizerFiles.WriteGpt2Based(dir, flavor);
        var tok = HfTokenizer.Load(dir);
        stored = stored with
        {
            BosTokenId = tok.BosId is { } bos ? System.Text.Json.JsonSerializer.SerializeToElement(bos) : null,
            EosTokenId = tok.EosId is { } eos ? System.Text.Json.JsonSerializer.SerializeToElement(eos) : null,
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), stored.ToJson());
        var ordered = WeightNames.Expected(config).Select(e => new KeyValuePair<string, Tensor>(e.Name, weights[e.Name]));
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), ordered,
            new Dictionary<string, string> { ["format"] = "pt" }, storeAs);
    }

    /// <summary>init-random: a preset of a family with seeded weights, written to `dir` (with another context length if given).</summary>
    public static ModelConfig Create(string dir, ModelFamily family, string preset, long seed, ScalarType storeAs, int? context = null)
    {
        var config = ModelPresets.Create(family, preset);
        if (context is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(n, 16, nameof(context));
            config = config with { MaxPositionEmbeddings = n };
        }
        var weights = RandomWeights(config, seed);
        try
        {
            Write(dir, config, weights, storeAs);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        return config;
    }
}
