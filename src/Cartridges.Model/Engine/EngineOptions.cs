namespace Cartridges.Model.Engine;

/// <summary>Engine limits.</summary>
public sealed record EngineOptions
{
    /// <summary>Most sequences decoded together in one step.</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>Initial KV cache length per slot (grows on demand).</summary>
    public int InitialCacheLength { get; init; } = 256;

    /// <summary>
    /// Prompt tokens fed per sequence per engine step: a long prompt is prefilled a chunk at a time between decode steps,
    /// so running sequences keep streaming and attention memory stays linear in the prompt.
    /// </summary>
    public int PrefillChunkTokens { get; init; } = Transformer.PrefixBuilder.DefaultChunkTokens;

    /// <summary>
    /// On the CPU, output heads up to this many bytes get a transposed copy that makes batch-1 decode steps faster
    /// (<see cref="Transformer.TransformerModel.KeepTransposedHead"/>); 0 turns it off. Float32 heads get none: their
    /// decode steps read the head in place on all cores, faster than the copy would.
    /// </summary>
    public long TransposedHeadMaxBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Most bytes the paged KV cache may hold (keys and values of sequences' own tokens; prefixes are separate). At the
    /// limit, waiting sequences start only when their prompt fits, and running ones are preempted newest-first (their
    /// blocks freed, their tokens fed again later, their output unchanged). 0 = the pool grows as needed.
    /// </summary>
    public long KvCacheMaxBytes { get; init; }
}

/// <summary>A snapshot of the engine's load and memory.</summary>
public sealed record EngineStats(
    long WeightBytes,
    long PrefixBytes,
    long CacheBytes,
    int Prefixes,
    int ActiveSequences,
    int QueuedSequences,
    int LastBatchSize,
    long TokensGenerated,
    double TokensPerSecond)
{
    /// <summary>Largest decode batch (sequences in one step) since the engine started.</summary>
    public int MaxBatchSize { get; init; }

    /// <summary>Decode steps run since the engine started.</summary>
    public long DecodeSteps { get; init; }

    /// <summary>Sequences decoded, summed over every decode step since the engine started.</summary>
    public long DecodeRows { get; init; }

    /// <summary>Sequences preempted (blocks freed, to be fed again) since the engine started.</summary>
    public long Preemptions { get; init; }

    /// <summary>Blocks in the KV cache pool.</summary>
    public int KvBlocks { get; init; }

    /// <summary>KV cache blocks no sequence holds.</summary>
    public int FreeKvBlocks { get; init; }

    /// <summary>Mean sequences per decode step since the engine started.</summary>
    public double MeanBatchSize { get; init; }

    /// <summary>All resident tensor bytes the engine holds.</summary>
    public long ResidentBytes => WeightBytes + PrefixBytes + CacheBytes;
}
