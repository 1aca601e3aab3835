// A finished self-study dataset, loaded for distillation (method §4) and held-out evaluation: every shard is
// checked (its own checksum, the manifest's checksum, k, count, token ids within the vocabulary) before use.
// Loads all examples into memory, which suits the corpora and volumes the tests and CLI use.
using System.Security.Cryptography;
using Cartridges.Model.Config;

namespace Cartridges.Training.Data;

/// <summary>The train and held-out eval examples of a synthesized dataset directory.</summary>
public sealed class SynthDataset
{
    SynthDataset(string directory, DatasetManifest manifest, IReadOnlyList<TrainingExample> train, IReadOnlyList<TrainingExample> eval)
    {
        Directory = directory;
        Manifest = manifest;
        Train = train;
        Eval = eval;
    }

    /// <summary>The dataset directory.</summary>
    public string Directory { get; }

    /// <summary>The manifest.</summary>
    public DatasetManifest Manifest { get; }

    /// <summary>Examples of the train shards, in shard order.</summary>
    public IReadOnlyList<TrainingExample> Train { get; }

    /// <summary>Examples of the held-out eval shards (never trained on), in shard order.</summary>
    public IReadOnlyList<TrainingExample> Eval { get; }

    /// <summary>Loads and validates a dataset; with `model`, also refuses a dataset synthesized by another model.</summary>
    /// <exception cref="FileNotFoundException">There is no manifest.</exception>
    /// <exception cref="InvalidDataException">The dataset is incomplete, corrupt, or from another model; the message names the file.</exception>
    public static SynthDataset Open(string dir, ModelConfig? model = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dir);
        var manifest = DatasetManifest.Load(dir);
        if (!manifest.Complete)
            throw new InvalidDataException($"{dir}: the dataset is incomplete (synthesis was interrupted); rerun synthesis into the same directory to finish it.");
        if (model is not null && model.ArchitectureHash() != manifest.ModelHash)
            throw new InvalidDataException($"{dir}: the dataset was synthesized by model {manifest.ModelHash}; this model is {model.ArchitectureHash()}.");
        var train = new List<TrainingExample>();
        var eval = new List<TrainingExample>();
        foreach (var entry in manifest.Shards)
        {
            var target = entry.Split switch
            {
                DatasetManifest.TrainSplit => train,
                DatasetManifest.EvalSplit => eval,
                _ => throw new InvalidDataException($"{dir}: shard {entry.File} has unknown split '{entry.Split}'."),
            };
            target.AddRange(LoadShard(Path.Combine(dir, entry.File), entry, manifest));
        }
        return new SynthDataset(dir, manifest, train, eval);
    }

    static IReadOnlyList<TrainingExample> LoadShard(string path, ShardEntry entry, DatasetManifest manifest)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: a shard listed in the manifest is missing.");
        var bytes = File.ReadAllBytes(path);
        var shard = ShardReader.Decode(bytes, path);
        if (entry.Sha256 is { } expected && Convert.ToHexStringLower(SHA256.HashData(bytes)) != expected)
            throw new InvalidDataException($"{path}: the shard is valid but not the one the manifest lists (SHA-256 differs).");
        if (shard.K != manifest.TopK) throw new InvalidDataException($"{path}: top-k {shard.K}, but the manifest says {manifest.TopK}.");
        if (shard.Examples.Count != entry.Conversations)
            throw new InvalidDataException($"{path}: {shard.Examples.Count} conversations, but the manifest says {entry.Conversations}.");
        for (var e = 0; e < shard.Examples.Count; e++)
        {
            var x = shard.Examples[e];
            bool Outside(int id) => id < 0 || id >= manifest.VocabSize;
            if (x.Tokens.Any(Outside) || x.TopKIds.Any(r => r.Any(Outside)))
                throw new InvalidDataException($"{path}: example {e} has token ids outside the vocabulary of {manifest.VocabSize}.");
        }
        return shard.Examples;
    }
}
