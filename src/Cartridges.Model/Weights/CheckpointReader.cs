// Opens the weights of a Hugging Face model directory: model.safetensors, or a sharded
// model.safetensors.index.json whose weight_map names one shard file per tensor.
using System.Text.Json;
using Cartridges.Model.Config;
using TorchSharp;

namespace Cartridges.Model.Weights;

/// <summary>Reads named tensors from a single or sharded safetensors checkpoint.</summary>
public sealed class CheckpointReader : IDisposable
{
    readonly Dictionary<string, SafeTensorsFile> _files = new();
    readonly Dictionary<string, SafeTensorsFile> _byTensor = new();

    /// <summary>Every tensor name in the checkpoint.</summary>
    public IReadOnlyCollection<string> Names => _byTensor.Keys;

    CheckpointReader() { }

    /// <summary>Opens the checkpoint in a model directory.</summary>
    public static CheckpointReader Open(string modelDir)
    {
        var reader = new CheckpointReader();
        try
        {
            var single = Path.Combine(modelDir, "model.safetensors");
            var index = Path.Combine(modelDir, "model.safetensors.index.json");
            if (File.Exists(index)) reader.OpenIndex(modelDir, index);
            else if (File.Exists(single)) reader.Add(single);
            else
                throw new ModelLoadException(
                    $"No weights in '{modelDir}': expected model.safetensors or model.safetensors.index.json.");
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    void OpenIndex(string modelDir, string index)
    {
        Dictionary<string, string> map;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(index));
            map = doc.RootElement.GetProperty("weight_map").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelLoadException($"{index}: not a valid safetensors index (needs a 'weight_map' object): {e.Message}", e);
        }
        foreach (var (tensor, shard) in map)
        {
            if (shard.Contains('/') || shard.Contains('\\') || shard.StartsWith('.'))
                throw new ModelLoadException($"{index}: shard name '{shard}' must be a plain file name.");
            if (!_files.TryGetValue(shard, out var file))
            {
                file = SafeTensorsFile.Open(Path.Combine(modelDir, shard));
                _files[shard] = file;
            }
            if (!file.Tensors.ContainsKey(tensor))
                throw new ModelLoadException($"{index}: tensor '{tensor}' is mapped to {shard}, which does not contain it.");
            _byTensor[tensor] = file;
        }
    }

    void Add(string path)
    {
        var file = SafeTensorsFile.Open(path);
        _files[Path.GetFileName(path)] = file;
        foreach (var name in file.Tensors.Keys) _byTensor[name] = file;
    }

    /// <summary>True when the checkpoint has the tensor.</summary>
    public bool Contains(string name) => _byTensor.ContainsKey(name);

    /// <summary>Reads a tensor, checking its shape, converted to dtype.</summary>
    public torch.Tensor Read(string name, long[] expectedShape, torch.ScalarType dtype)
    {
        if (!_byTensor.TryGetValue(name, out var file))
            throw new ModelLoadException($"Checkpoint is missing tensor '{name}'.");
        var shape = file.Tensors[name].Shape;
        if (!shape.SequenceEqual(expectedShape))
            throw new ModelLoadException(
                $"Tensor '{name}' in {Path.GetFileName(file.Path)} has shape [{string.Join(", ", shape)}], config.json implies [{string.Join(", ", expectedShape)}].");
        return file.Read(name, dtype);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var f in _files.Values) f.Dispose();
        _files.Clear();
    }
}
