// Cartridge file format: safetensors with `layers.{i}.keys` / `layers.{i}.values` [n_kv_heads, p, head_dim]
// (frozen sink included) and CartridgeMetadata in `__metadata__`, so other tools can read it.
using Cartridges.Model.Config;
using Cartridges.Model.Weights;
using static TorchSharp.torch;

namespace Cartridges.Training.Cartridges;

/// <summary>Saves and loads cartridges; loading refuses a cartridge made for another model.</summary>
public static class CartridgeFile
{
    /// <summary>Writes atomically (temp file, verified by re-reading the header, then renamed).</summary>
    public static void Save(string path, Cartridge cartridge, CartridgeMetadata metadata, ScalarType? storeAs = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var prefix = cartridge.AsPrefix();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (var i = 0; i < prefix.Keys.Length; i++)
        {
            tensors.Add(new($"layers.{i}.keys", prefix.Keys[i]));
            tensors.Add(new($"layers.{i}.values", prefix.Values[i]));
        }
        SafeTensorsWriter.Write(path, tensors, metadata.ToDictionary(), storeAs);
        using var check = SafeTensorsFile.Open(path);
        CartridgeMetadata.Parse(check.Metadata, path);
    }

    /// <summary>Reads only the metadata.</summary>
    public static CartridgeMetadata ReadMetadata(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return CartridgeMetadata.Parse(file.Metadata, path);
    }

    /// <summary>Loads a cartridge for a model (checked by config hash and geometry) in the model's dtype and device.</summary>
    public static (Cartridge Cartridge, CartridgeMetadata Metadata) Load(string path, ModelConfig config, ScalarType dtype, Device device)
    {
        using var file = SafeTensorsFile.Open(path);
        var meta = CartridgeMetadata.Parse(file.Metadata, path);
        if (meta.ConfigHash != config.ArchitectureHash())
            throw new InvalidDataException(
                $"{path}: cartridge was made for model '{meta.Model}' (config hash {meta.ConfigHash}); this model's config hash is {config.ArchitectureHash()}.");
        using var scope = NewDisposeScope();
        var keys = new Tensor[config.NumHiddenLayers];
        var values = new Tensor[config.NumHiddenLayers];
        long[] expected = [config.NumKeyValueHeads, meta.Tokens, config.HeadDim];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = Read(file, $"layers.{i}.keys", expected, dtype, device, path);
            values[i] = Read(file, $"layers.{i}.values", expected, dtype, device, path);
        }
        return (new Cartridge(keys, values, meta.Frozen), meta);
    }

    static Tensor Read(SafeTensorsFile file, string name, long[] expected, ScalarType dtype, Device device, string path)
    {
        if (!file.Tensors.TryGetValue(name, out var info)) throw new InvalidDataException($"{path}: missing tensor '{name}'.");
        if (!info.Shape.SequenceEqual(expected))
            throw new InvalidDataException($"{path}: tensor '{name}' is [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", expected)}].");
        return file.Read(name, dtype).to(device);
    }
}
