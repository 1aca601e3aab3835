// Hyper-parameters of cartridge training (method §4: Adam, constant LR 2e-2, global batch 64, 1–2 epochs) and
// of the run itself (micro-batching, checkpoints, resume).
namespace Cartridges.Training.Distillation;

/// <summary>Settings of one training run.</summary>
public sealed record TrainerOptions
{
    /// <summary>Total optimizer steps of the run (a resumed run continues up to this count).</summary>
    public int Steps { get; init; } = 100;

    /// <summary>Sequences per optimizer step (gradients are accumulated over micro-batches).</summary>
    public int GlobalBatchSize { get; init; } = 64;

    /// <summary>Most sequences in one forward/backward pass.</summary>
    public int MicroBatchSize { get; init; } = 4;

    /// <summary>Most padded tokens (sequences × longest) in one forward/backward pass.</summary>
    public int MicroBatchTokens { get; init; } = 4096;

    /// <summary>Constant learning rate (the method uses 2e-2; 1e-2 for 8B models).</summary>
    public double LearningRate { get; init; } = 2e-2;

    /// <summary>Adam β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam β2.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam ε.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Seed of the per-epoch data shuffle.</summary>
    public long Seed { get; init; }

    /// <summary>Directory for checkpoints (none are written when null).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Write a checkpoint every this many optimizer steps (0: only after the last step).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Checkpoints kept on disk (older ones are deleted).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Continue from the latest checkpoint in CheckpointDirectory when there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Model identity written into checkpointed cartridge files.</summary>
    public string ModelName { get; init; } = "model";

    /// <summary>Throws a clear error for an unusable setting.</summary>
    public void Validate()
    {
        static void Positive(double value, string name)
        {
            if (!(value > 0)) throw new ArgumentException($"Training option {name} must be positive (got {value}).");
        }
        Positive(Steps, nameof(Steps));
        Positive(GlobalBatchSize, nameof(GlobalBatchSize));
        Positive(MicroBatchSize, nameof(MicroBatchSize));
        Positive(MicroBatchTokens, nameof(MicroBatchTokens));
        Positive(LearningRate, nameof(LearningRate));
        Positive(Epsilon, nameof(Epsilon));
        Positive(KeepCheckpoints, nameof(KeepCheckpoints));
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new ArgumentException($"Adam betas must be in [0, 1) (got {Beta1}, {Beta2}).");
        if (CheckpointEvery < 0) throw new ArgumentException($"CheckpointEvery must be 0 or positive (got {CheckpointEvery}).");
        if (Resume && CheckpointDirectory is null) throw new ArgumentException("Resume needs a CheckpointDirectory to resume from.");
    }
}
