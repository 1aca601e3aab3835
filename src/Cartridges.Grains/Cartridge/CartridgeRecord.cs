// Grain state: small (spec without corpus, lifecycle, progress, blob pointers). Tensors, corpus, shards and
// checkpoints are blobs; the state only names them by content hash.
using Cartridges.Abstractions;

namespace Cartridges.Grains.Cartridge;

/// <summary>The persisted state of a cartridge grain.</summary>
[GenerateSerializer]
public sealed class CartridgeRecord
{
    /// <summary>Lifecycle state (None: never created or deleted).</summary>
    [Id(0)] public CartridgeState State { get; set; }

    /// <summary>The spec with its corpus text removed (the corpus is <see cref="CorpusBlob"/>).</summary>
    [Id(1)] public CartridgeSpec? Spec { get; set; }

    /// <summary>Content hash of the corpus.</summary>
    [Id(2)] public string? CorpusBlob { get; set; }

    /// <summary>Finished synthesis shards: index → blob hash.</summary>
    [Id(3)] public Dictionary<int, string> Shards { get; set; } = [];

    /// <summary>Shards planned.</summary>
    [Id(4)] public int ShardsTotal { get; set; }

    /// <summary>Latest uploaded training checkpoint.</summary>
    [Id(5)] public CheckpointRecord? Checkpoint { get; set; }

    /// <summary>Content hash of the trained cartridge file (Serving).</summary>
    [Id(6)] public string? CartridgeBlob { get; set; }

    /// <summary>Why the last run failed.</summary>
    [Id(7)] public string? Error { get; set; }

    /// <summary>Whether a failed run may be retried.</summary>
    [Id(8)] public bool Retryable { get; set; }

    /// <summary>Creation time.</summary>
    [Id(9)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Optimizer steps done (as of the last checkpoint or the end).</summary>
    [Id(10)] public int Step { get; set; }

    /// <summary>Latest training loss.</summary>
    [Id(11)] public double? Loss { get; set; }

    /// <summary>Step training last resumed from.</summary>
    [Id(12)] public int ResumedFromStep { get; set; }

    /// <summary>True while generating/training should be running; an activation that finds it set resumes the work.</summary>
    [Id(13)] public bool Running { get; set; }
}

/// <summary>A training checkpoint in the blob store.</summary>
[GenerateSerializer]
public sealed class CheckpointRecord
{
    /// <summary>Optimizer step of the checkpoint.</summary>
    [Id(0)] public int Step { get; set; }

    /// <summary>The checkpoint's directory name (step-XXXXXXXX).</summary>
    [Id(1)] public string Directory { get; set; } = "";

    /// <summary>File name → blob hash.</summary>
    [Id(2)] public Dictionary<string, string> Files { get; set; } = [];
}
