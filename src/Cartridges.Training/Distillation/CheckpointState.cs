// The JSON part of a training checkpoint (state.json): what the run was (model, data, settings that shape the
// trajectory) and where it stood (optimizer step, data cursor, generator state). Tensors live in safetensors.
using System.Globalization;

namespace Cartridges.Training.Distillation;

/// <summary>Identity and position of a training run, as written in a checkpoint's state.json.</summary>
internal sealed record CheckpointState
{
    public const string FormatName = "cartridges.training-checkpoint/1";

    public string Format { get; init; } = FormatName;
    public required int OptimizerStep { get; init; }
    public required string Objective { get; init; }
    public required string ModelFingerprint { get; init; }
    public required string DatasetFingerprint { get; init; }
    public required int DatasetCount { get; init; }
    public required int CartridgeTokens { get; init; }
    public required int CartridgeFrozen { get; init; }
    public required int GlobalBatchSize { get; init; }
    public required int MicroBatchSize { get; init; }
    public required int MicroBatchTokens { get; init; }
    public required double LearningRate { get; init; }
    public required double Beta1 { get; init; }
    public required double Beta2 { get; init; }
    public required double Epsilon { get; init; }
    public required int Epoch { get; init; }
    public required int Position { get; init; }
    public required long ShuffleSeed { get; init; }
    public required ulong EpochRngState { get; init; }
    public double Loss { get; init; } = double.NaN;

    public DataCursor Cursor => new(Epoch, Position, ShuffleSeed, EpochRngState);

    /// <summary>
    /// Throws naming every field where this checkpoint differs from the current run. The model and the dataset must
    /// match; so must every setting that changes the arithmetic, or resuming could not be bit-identical.
    /// </summary>
    public void CheckMatches(CheckpointState current, string source)
    {
        if (Format != FormatName) throw new InvalidDataException($"{source}: not a training checkpoint (format '{Format}', expected '{FormatName}').");
        if (ModelFingerprint != current.ModelFingerprint)
            throw new InvalidDataException($"{source}: checkpoint belongs to another model (fingerprint {ModelFingerprint}; this model is {current.ModelFingerprint}).");
        if (DatasetFingerprint != current.DatasetFingerprint || DatasetCount != current.DatasetCount || Objective != current.Objective)
            throw new InvalidDataException(
                $"{source}: checkpoint belongs to another dataset ({Objective}, {DatasetCount} sequences, fingerprint {DatasetFingerprint}; " +
                $"this run is {current.Objective}, {current.DatasetCount} sequences, fingerprint {current.DatasetFingerprint}).");
        var differences = new List<string>();
        void Same<T>(string name, T saved, T now)
        {
            if (!EqualityComparer<T>.Default.Equals(saved, now))
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {saved} (now {now})"));
        }
        Same("cartridge tokens", CartridgeTokens, current.CartridgeTokens);
        Same("frozen tokens", CartridgeFrozen, current.CartridgeFrozen);
        Same("global batch", GlobalBatchSize, current.GlobalBatchSize);
        Same("micro-batch size", MicroBatchSize, current.MicroBatchSize);
        Same("micro-batch tokens", MicroBatchTokens, current.MicroBatchTokens);
        Same("learning rate", LearningRate, current.LearningRate);
        Same("beta1", Beta1, current.Beta1);
        Same("beta2", Beta2, current.Beta2);
        Same("epsilon", Epsilon, current.Epsilon);
        Same("seed", ShuffleSeed, current.ShuffleSeed);
        if (differences.Count > 0)
            throw new InvalidDataException($"{source}: checkpoint was written with other settings: {string.Join("; ", differences)}.");
    }
}
