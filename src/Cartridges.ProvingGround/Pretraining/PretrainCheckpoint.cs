// Checkpoint of a pretraining run: every weight and both AdamW moments in fp32 (one safetensors file) plus the
// step it was taken after. Data needs no state (BatchSampler is a function of the step), so resuming from it
// continues bit-exactly. Written to temporary names and renamed, so a crash never leaves a half checkpoint.
using System.Globalization;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Saves and restores model + optimizer state.</summary>
public static class PretrainCheckpoint
{
    /// <summary>The checkpoint file inside a run's checkpoint directory.</summary>
    public const string FileName = "state.safetensors";

    /// <summary>Writes weights and optimizer state after <paramref name="step"/> completed steps.</summary>
    public static void Save(string dir, TransformerModel model, AdamW optimizer, int step, string recipeJson, int recordsCeiling = 0)
    {
        Directory.CreateDirectory(dir);
        var named = model.NamedTensors().ToList();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (var i = 0; i < named.Count; i++)
        {
            tensors.Add(new($"w.{named[i].Key}", named[i].Value));
            tensors.Add(new($"m.{named[i].Key}", optimizer.M[i]));
            tensors.Add(new($"v.{named[i].Key}", optimizer.V[i]));
        }
        var meta = new Dictionary<string, string>
        {
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["adam_step"] = optimizer.Step.ToString(CultureInfo.InvariantCulture),
            ["recipe"] = recipeJson,
            ["records_ceiling"] = recordsCeiling.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensorsWriter.Write(Path.Combine(dir, FileName), tensors, meta, ScalarType.Float32);
    }

    /// <summary>Copies only the weights of another run's checkpoint into <paramref name="model"/> (a staged run starts from them).</summary>
    /// <exception cref="InvalidDataException">A weight is missing or has another shape.</exception>
    public static void LoadWeights(string dir, TransformerModel model)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(dir, FileName));
        using var _ = no_grad();
        foreach (var (name, weight) in model.NamedTensors())
        {
            using var w = file.Read($"w.{name}", ScalarType.Float32);
            if (!w.shape.SequenceEqual(weight.shape)) throw new InvalidDataException($"{dir}: '{name}' has another shape there; --init needs the same model size.");
            weight.copy_(w);
        }
    }

    /// <summary>The gated curriculum's record ceiling saved with the checkpoint (0 when none was saved).</summary>
    public static int RecordsCeiling(string dir)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(dir, FileName));
        return int.TryParse(file.Metadata.GetValueOrDefault("records_ceiling"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : 0;
    }

    /// <summary>True when <paramref name="dir"/> holds a checkpoint.</summary>
    public static bool Exists(string dir) => File.Exists(Path.Combine(dir, FileName));

    /// <summary>Copies a checkpoint into the model's weights and the optimizer; returns the step to continue from.</summary>
    /// <exception cref="InvalidDataException">The checkpoint was made with another recipe or model shape.</exception>
    public static int Load(string dir, TransformerModel model, AdamW optimizer, string recipeJson)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(dir, FileName));
        if (file.Metadata.GetValueOrDefault("recipe") != recipeJson)
            throw new InvalidDataException($"{dir}: the checkpoint was written by a different recipe; resume with the same options or start a new --out.");
        var named = model.NamedTensors().ToList();
        var m = new List<Tensor>();
        var v = new List<Tensor>();
        using (no_grad())
        {
            foreach (var (name, weight) in named)
            {
                using var w = file.Read($"w.{name}", ScalarType.Float32);
                if (!w.shape.SequenceEqual(weight.shape)) throw new InvalidDataException($"{dir}: '{name}' has another shape in the checkpoint.");
                weight.copy_(w);
                m.Add(file.Read($"m.{name}", ScalarType.Float32));
                v.Add(file.Read($"v.{name}", ScalarType.Float32));
            }
        }
        optimizer.Load(int.Parse(file.Metadata["adam_step"], CultureInfo.InvariantCulture), m, v);
        foreach (var t in m.Concat(v)) t.Dispose();
        return int.Parse(file.Metadata["step"], CultureInfo.InvariantCulture);
    }
}
