using Orleans.Concurrency;

namespace Cartridges.Abstractions;

/// <summary>
/// The cluster-facing face of one silo's model engine for one base model (key <c>{silo}|{model}</c>, placed on
/// exactly that silo): resident cartridges, batched decoding, synthesis shards, stats.
/// </summary>
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Engine statistics.</summary>
    [AlwaysInterleave]
    Task<ModelStats> GetStatsAsync();

    /// <summary>Synthesizes one self-study shard of a cartridge's dataset on this silo; returns its blob hash.</summary>
    [ResponseTimeout("01:00:00")]
    Task<string> SynthesizeShardAsync(ShardWork work);
}

/// <summary>One shard of self-study work: where the corpus is, the synthesis settings, which shard.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardWork
{
    /// <summary>The cartridge the shard belongs to (for logs).</summary>
    [Id(0)] public string Cartridge { get; init; } = "";

    /// <summary>Content hash of the corpus blob.</summary>
    [Id(1)] public string CorpusBlob { get; init; } = "";

    /// <summary>The dataset's synthesis settings.</summary>
    [Id(2)] public SynthesisBudget Synthesis { get; init; } = new();

    /// <summary>The shard index.</summary>
    [Id(3)] public int Shard { get; init; }
}

/// <summary>Statistics of one silo's engine for one base model.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelStats
{
    /// <summary>The silo.</summary>
    [Id(0)] public string Silo { get; init; } = "";

    /// <summary>The base model name.</summary>
    [Id(1)] public string Model { get; init; } = "";

    /// <summary>Bytes of model weights resident.</summary>
    [Id(2)] public long ModelBytes { get; init; }

    /// <summary>Bytes of cartridge tensors resident (each cartridge once, however many requests use it).</summary>
    [Id(3)] public long CartridgeBytes { get; init; }

    /// <summary>Cartridges resident.</summary>
    [Id(4)] public int Cartridges { get; init; }

    /// <summary>Sequences being decoded now.</summary>
    [Id(5)] public int ActiveSequences { get; init; }

    /// <summary>Requests waiting to join the batch.</summary>
    [Id(6)] public int QueueLength { get; init; }

    /// <summary>Largest decode batch seen.</summary>
    [Id(7)] public int MaxBatchSize { get; init; }

    /// <summary>Mean decode batch size since start.</summary>
    [Id(8)] public double MeanBatchSize { get; init; }

    /// <summary>Generated tokens per second over the engine's busy time.</summary>
    [Id(9)] public double TokensPerSecond { get; init; }

    /// <summary>Tokens generated since start.</summary>
    [Id(10)] public long TokensGenerated { get; init; }

    /// <summary>Declared accelerator memory of the silo (bytes).</summary>
    [Id(11)] public long DeviceMemoryBytes { get; init; }

    /// <summary>Declared memory minus what the engine holds (bytes).</summary>
    [Id(12)] public long FreeMemoryBytes { get; init; }

    /// <summary>Decode steps since start (with <see cref="DecodeRows"/>: the mean batch over any interval).</summary>
    [Id(13)] public long DecodeSteps { get; init; }

    /// <summary>Sequences decoded summed over all decode steps since start.</summary>
    [Id(14)] public long DecodeRows { get; init; }
}
