// Training checkpoints (issue deliverable 3): a directory `step-{optimizerStep:D8}` holding the cartridge
// (cartridge.safetensors, the normal cartridge format), the Adam state (optimizer.safetensors: m.{i}, v.{i}
// in fp32 plus the step) and state.json (model/dataset identity, settings, data cursor, generator state).
// Written atomically: everything goes into a temporary directory, is read back and checked, then renamed.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using Cartridges.Training.Cartridges;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Finds, writes and restores training checkpoints.</summary>
public static partial class TrainingCheckpoint
{
    const string CartridgeFileName = "cartridge.safetensors";
    const string OptimizerFileName = "optimizer.safetensors";
    const string StateFileName = "state.json";
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals, // the loss may be NaN
    };

    [GeneratedRegex(@"^step-(\d+)$")]
    private static partial Regex StepDirectory();

    /// <summary>The complete checkpoint with the highest optimizer step under `directory`, or null when there is none.</summary>
    public static string? Latest(string directory)
    {
        if (!Directory.Exists(directory)) return null;
        return Directory.GetDirectories(directory)
            .Select(d => (Dir: d, Match: StepDirectory().Match(Path.GetFileName(d))))
            .Where(x => x.Match.Success && File.Exists(Path.Combine(x.Dir, StateFileName)))
            .OrderByDescending(x => long.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture))
            .Select(x => x.Dir)
            .FirstOrDefault();
    }

    /// <summary>
    /// The micro-batch size the newest checkpoint under `directory` was trained with (null when there is none): a run
    /// resumes with it even if the configured default changed since, because the size shapes the arithmetic.
    /// </summary>
    public static int? MicroBatchSizeOf(string directory) => Latest(directory) is { } latest ? ReadState(latest).MicroBatchSize : null;

    /// <summary>Writes a checkpoint for `state.OptimizerStep`, then deletes all but the newest `keep`. Returns its directory.</summary>
    internal static string Save(string directory, int keep, CheckpointState state, Cartridge cartridge, CartridgeMetadata metadata, AdamOptimizer adam)
    {
        Directory.CreateDirectory(directory);
        var final = Path.Combine(directory, $"step-{state.OptimizerStep:D8}");
        var temp = final + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            CartridgeFile.Save(Path.Combine(temp, CartridgeFileName), cartridge, metadata);
            var moments = adam.M.Select((m, i) => new KeyValuePair<string, Tensor>($"m.{i}", m))
                .Concat(adam.V.Select((v, i) => new KeyValuePair<string, Tensor>($"v.{i}", v)));
            SafeTensorsWriter.Write(Path.Combine(temp, OptimizerFileName), moments,
                new Dictionary<string, string> { ["format"] = "cartridges.adam/1", ["step"] = adam.Step.ToString(CultureInfo.InvariantCulture) });
            var statePath = Path.Combine(temp, StateFileName);
            using (var stream = new FileStream(statePath, FileMode.CreateNew))
            {
                JsonSerializer.Serialize(stream, state, Json);
                stream.Flush(true);
            }
            Verify(temp, state, adam);
            if (Directory.Exists(final)) Directory.Delete(final, true); // a rerun of the same step replaces it
            Directory.Move(temp, final);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, true);
            throw;
        }
        Prune(directory, keep);
        return final;
    }

    /// <summary>
    /// Checks the checkpoint against the current run (refusing another model, dataset or settings), then loads the
    /// cartridge values and Adam state into the live objects. Returns the checkpoint's state (step and data cursor).
    /// </summary>
    internal static CheckpointState Restore(string checkpoint, CheckpointState current, Cartridge cartridge, AdamOptimizer adam, TransformerModel model)
    {
        var saved = ReadState(checkpoint);
        saved.CheckMatches(current, checkpoint);
        // Read and check everything before touching the live cartridge and optimizer: a bad file changes nothing.
        var (loaded, _) = CartridgeFile.Load(Path.Combine(checkpoint, CartridgeFileName), model.Config, cartridge.Parameters[0].dtype, cartridge.Parameters[0].device);
        using (loaded)
        {
            if (loaded.Length != cartridge.Length || loaded.Frozen != cartridge.Frozen)
                throw new InvalidDataException($"{checkpoint}: cartridge has {loaded.Length} tokens ({loaded.Frozen} frozen); this run's has {cartridge.Length} ({cartridge.Frozen}).");
            using var file = SafeTensorsFile.Open(Path.Combine(checkpoint, OptimizerFileName));
            if (!file.Metadata.TryGetValue("step", out var stepText) || !int.TryParse(stepText, CultureInfo.InvariantCulture, out var step) || step != saved.OptimizerStep)
                throw new InvalidDataException($"{checkpoint}: optimizer state lacks a step count matching optimizer step {saved.OptimizerStep}.");
            using var scope = NewDisposeScope();
            var device = adam.M[0].device;
            Tensor Read(string name, Tensor like)
            {
                if (!file.Tensors.TryGetValue(name, out var info)) throw new InvalidDataException($"{checkpoint}: optimizer state lacks '{name}'.");
                if (!info.Shape.SequenceEqual(like.shape))
                    throw new InvalidDataException($"{checkpoint}: optimizer '{name}' is [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", like.shape)}].");
                return file.Read(name, ScalarType.Float32).to(device);
            }
            var m = adam.M.Select((t, i) => Read($"m.{i}", t)).ToArray();
            var v = adam.V.Select((t, i) => Read($"v.{i}", t)).ToArray();
            cartridge.CopyFrom(loaded);
            adam.Load(step, m, v);
        }
        return saved;
    }

    static CheckpointState ReadState(string checkpoint)
    {
        var path = Path.Combine(checkpoint, StateFileName);
        try
        {
            return JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path), Json)
                   ?? throw new InvalidDataException($"{path}: empty checkpoint state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable checkpoint state: {e.Message}", e);
        }
    }

    // Read back what was written: the state parses to the same values, the cartridge file parses, the moments are all there.
    static void Verify(string dir, CheckpointState state, AdamOptimizer adam)
    {
        if (ReadState(dir) != state) throw new IOException($"{dir}: checkpoint state did not read back identically.");
        CartridgeFile.ReadMetadata(Path.Combine(dir, CartridgeFileName));
        using var file = SafeTensorsFile.Open(Path.Combine(dir, OptimizerFileName));
        if (file.Tensors.Count != adam.M.Length + adam.V.Length) throw new IOException($"{dir}: optimizer state did not read back completely.");
    }

    static void Prune(string directory, int keep)
    {
        var complete = Directory.GetDirectories(directory)
            .Select(d => (Dir: d, Match: StepDirectory().Match(Path.GetFileName(d))))
            .Where(x => x.Match.Success)
            .OrderByDescending(x => long.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture))
            .Skip(keep);
        foreach (var (dir, _) in complete) Directory.Delete(dir, true);
    }
}
