namespace Cartridges.Abstractions;

/// <summary>A snapshot of a cartridge: lifecycle state, progress of the current phase, placement and footprint.</summary>
[GenerateSerializer, Immutable]
public sealed record CartridgeStatus
{
    /// <summary>The grain key (tenant/name).</summary>
    [Id(0)] public string Key { get; init; } = "";

    /// <summary>Lifecycle state.</summary>
    [Id(1)] public CartridgeState State { get; init; }

    /// <summary>Progress of the whole run in [0, 1] (synthesis counts for half, training for the other half).</summary>
    [Id(2)] public double Progress { get; init; }

    /// <summary>Optimizer steps done.</summary>
    [Id(3)] public int Step { get; init; }

    /// <summary>Optimizer steps planned.</summary>
    [Id(4)] public int TotalSteps { get; init; }

    /// <summary>Latest training loss (null before training).</summary>
    [Id(5)] public double? Loss { get; init; }

    /// <summary>Estimated time to Serving (null when unknown).</summary>
    [Id(6)] public TimeSpan? Eta { get; init; }

    /// <summary>Why the last run failed (state Failed), else null.</summary>
    [Id(7)] public string? Error { get; init; }

    /// <summary>Whether StartAsync may retry after a failure.</summary>
    [Id(8)] public bool Retryable { get; init; }

    /// <summary>The silo hosting the cartridge grain.</summary>
    [Id(9)] public string? Silo { get; init; }

    /// <summary>Bytes of cartridge tensors resident in the silo's engine (0 when not loaded).</summary>
    [Id(10)] public long ResidentBytes { get; init; }

    /// <summary>Synthesis shards finished.</summary>
    [Id(11)] public int ShardsDone { get; init; }

    /// <summary>Synthesis shards planned.</summary>
    [Id(12)] public int ShardsTotal { get; init; }

    /// <summary>The spec's base model.</summary>
    [Id(13)] public string? BaseModel { get; init; }

    /// <summary>Cartridge size p.</summary>
    [Id(14)] public int SizeTokens { get; init; }

    /// <summary>Step of the checkpoint training last resumed from (0: started fresh).</summary>
    [Id(15)] public int ResumedFromStep { get; init; }

    /// <summary>Content hash of the trained cartridge file in the blob store (Serving only).</summary>
    [Id(16)] public string? CartridgeBlob { get; init; }

    /// <summary>When the cartridge was created.</summary>
    [Id(17)] public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Human-readable detail of the current phase.</summary>
    [Id(18)] public string? Detail { get; init; }

    /// <summary>
    /// Recent throughput in tokens per second: while training, the tokens the last optimizer step processed per second;
    /// while serving, the answer tokens of the last minute per second; null otherwise.
    /// </summary>
    [Id(19)] public double? TokensPerSecond { get; init; }
}
