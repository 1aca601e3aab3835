// Writes the trained weights as a standard model directory (config.json + bf16 model.safetensors; the tokenizer
// files are already there), loadable by TransformerModel.Load, GenerationEngine and HfTokenizer.
using Cartridges.Model.Config;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Exports a model's weights into a model directory.</summary>
public static class ModelExporter
{
    /// <summary>Writes config.json and model.safetensors (bf16) into <paramref name="dir"/>.</summary>
    public static void Write(string dir, ModelConfig config, TransformerModel model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(dir);
        var ordered = WeightNames.Expected(config)
            .Select(e => new KeyValuePair<string, Tensor>(e.Name, model.NamedTensors().First(kv => kv.Key == e.Name).Value));
        var meta = new Dictionary<string, string> { ["format"] = "pt" };
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>()) meta[k] = v;
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), ordered, meta, ScalarType.BFloat16);
        var tmp = Path.Combine(dir, "config.json.tmp");
        File.WriteAllText(tmp, config.ToJson());
        File.Move(tmp, Path.Combine(dir, "config.json"), overwrite: true);
    }
}
