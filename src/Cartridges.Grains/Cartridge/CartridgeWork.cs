// Translates a cartridge spec into the method's settings (the same ones `cartridges train` uses), and moves datasets
// and checkpoints between the blob store and a silo's scratch directory.
using Cartridges.Abstractions;
using Cartridges.Storage;
using Cartridges.Storage.Blobs;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using Cartridges.Training.Synthesis;

namespace Cartridges.Grains.Cartridge;

/// <summary>Spec → method settings, and blob ↔ scratch-directory transfers for datasets and checkpoints.</summary>
public static class CartridgeWork
{
    /// <summary>The synthesis settings of a budget.</summary>
    public static SynthesisOptions SynthesisOptions(SynthesisBudget b) => new()
    {
        Conversations = b.Conversations,
        ConversationsPerShard = b.ConversationsPerShard,
        Seed = b.Seed,
        EvalShards = b.EvalShards,
        EvalFraction = 0.1,
        SelfStudy = new SelfStudyOptions
        {
            ChunkMinTokens = b.ChunkMinTokens,
            ChunkMaxTokens = b.ChunkMaxTokens,
            MaxQuestionTokens = b.MaxQuestionTokens,
            MaxAnswerTokens = b.MaxAnswerTokens,
            ConversationsPerChunk = b.ConversationsPerChunk,
        },
    };

    /// <summary>The trainer settings of a budget, checkpointing into <paramref name="checkpoints"/>.</summary>
    public static TrainerOptions TrainerOptions(TrainingBudget b, string modelName, string checkpoints, bool resume, int microBatch = 2) => new()
    {
        Steps = b.Steps,
        GlobalBatchSize = b.BatchSize,
        // A micro-batch is one indivisible device work item between decode steps: small ones keep questions asked on the
        // silo while it trains fast (Cartridges:TrainingMicroBatchSize).
        MicroBatchSize = Math.Min(microBatch, b.BatchSize),
        LearningRate = b.LearningRate,
        Seed = b.Seed,
        CheckpointDirectory = checkpoints,
        CheckpointEvery = b.CheckpointEvery,
        // Three, not two: a checkpoint is uploaded to the blob store after it is written, and must not be pruned first.
        KeepCheckpoints = 3,
        Resume = resume,
        ModelName = modelName,
    };

    /// <summary>Writes the dataset (manifest + every shard from the blob store, verified) into <paramref name="dir"/>.</summary>
    public static async Task WriteDatasetAsync(DatasetManifest plan, IReadOnlyDictionary<int, string> shardBlobs, IBlobStore blobs, string dir, CancellationToken ct)
    {
        Directory.CreateDirectory(dir);
        var shards = plan.Shards.ToArray();
        for (var i = 0; i < shards.Length; i++)
        {
            if (!shardBlobs.TryGetValue(i, out var blob)) throw new InvalidOperationException($"Shard {i} has not been synthesized.");
            await blobs.ReadToFileAsync(blob, Path.Combine(dir, shards[i].File), ct);
            shards[i] = shards[i] with { Sha256 = blob };
        }
        (plan with { Shards = shards, Complete = true }).Save(dir);
    }

    /// <summary>Uploads every file of a checkpoint directory; returns file name → blob hash.</summary>
    public static async Task<Dictionary<string, string>> UploadCheckpointAsync(string checkpointDir, IBlobStore blobs, CancellationToken ct)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(checkpointDir).Order(StringComparer.Ordinal))
            files[Path.GetFileName(file)] = (await blobs.PutFileAsync(file, ct)).Sha256;
        return files;
    }

    /// <summary>Restores a checkpoint directory named <paramref name="name"/> under <paramref name="root"/> from the blob store.</summary>
    public static async Task RestoreCheckpointAsync(string root, string name, IReadOnlyDictionary<string, string> files, IBlobStore blobs, CancellationToken ct)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        foreach (var (file, blob) in files) await blobs.ReadToFileAsync(blob, Path.Combine(dir, file), ct);
    }
}
