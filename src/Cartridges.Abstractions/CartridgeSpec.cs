// What a cartridge is made from and how much work it may take. The knobs mirror `cartridges train` so a cartridge
// trained in the cluster is the same artefact as one trained by the CLI.
namespace Cartridges.Abstractions;

/// <summary>The definition of a cartridge: base model, corpus, size and budgets.</summary>
[GenerateSerializer, Immutable]
public sealed record CartridgeSpec
{
    /// <summary>Base model name as configured on the silos (e.g. "default", "tiny", or a Hugging Face id).</summary>
    [Id(0)] public string BaseModel { get; init; } = "default";

    /// <summary>The corpus text (UTF-8). Stored in the blob store, not in grain state.</summary>
    [Id(1)] public string Corpus { get; init; } = "";

    /// <summary>Cartridge size p in tokens.</summary>
    [Id(2)] public int SizeTokens { get; init; } = 512;

    /// <summary>Self-study synthesis budget.</summary>
    [Id(3)] public SynthesisBudget Synthesis { get; init; } = new();

    /// <summary>Training budget.</summary>
    [Id(4)] public TrainingBudget Training { get; init; } = new();

    /// <summary>A clear message for the first unusable setting, or null when the spec is usable.</summary>
    public string? Problem()
    {
        if (string.IsNullOrWhiteSpace(BaseModel)) return "The base model is empty.";
        if (string.IsNullOrWhiteSpace(Corpus)) return "The corpus is empty.";
        if (SizeTokens < 2) return $"The cartridge size must be at least 2 tokens (got {SizeTokens}).";
        return Synthesis.Problem() ?? Training.Problem();
    }
}

/// <summary>How many self-study conversations to synthesize and how.</summary>
[GenerateSerializer, Immutable]
public sealed record SynthesisBudget
{
    /// <summary>Conversations in the dataset (train + held-out).</summary>
    [Id(0)] public int Conversations { get; init; } = 1024;

    /// <summary>Conversations per shard: the unit of fan-out and of loss on a silo failure.</summary>
    [Id(1)] public int ConversationsPerShard { get; init; } = 64;

    /// <summary>Shortest corpus chunk in tokens.</summary>
    [Id(2)] public int ChunkMinTokens { get; init; } = 512;

    /// <summary>Longest corpus chunk in tokens.</summary>
    [Id(3)] public int ChunkMaxTokens { get; init; } = 4096;

    /// <summary>Most tokens participant A writes.</summary>
    [Id(4)] public int MaxQuestionTokens { get; init; } = 512;

    /// <summary>Most tokens participant B writes.</summary>
    [Id(5)] public int MaxAnswerTokens { get; init; } = 1024;

    /// <summary>Conversations sharing one chunk's KV.</summary>
    [Id(6)] public int ConversationsPerChunk { get; init; } = 32;

    /// <summary>Exact number of held-out shards (null: about 10%).</summary>
    [Id(7)] public int? EvalShards { get; init; }

    /// <summary>Seed of the whole dataset.</summary>
    [Id(8)] public ulong Seed { get; init; }

    /// <summary>
    /// Conversations per shard for <paramref name="conversations"/> when none is given: shards of about
    /// <paramref name="target"/>, and always at least two, so one can be held out for evaluation.
    /// </summary>
    public static int ShardSizeFor(int conversations, int target = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(target, 1);
        var shards = Math.Max(2, (conversations + target - 1) / target);
        return Math.Max(1, (conversations + shards - 1) / shards);
    }

    /// <summary>A clear message for the first unusable setting, or null.</summary>
    public string? Problem() =>
        Conversations < 2 ? $"Synthesis needs at least 2 conversations (got {Conversations})." :
        ConversationsPerShard < 1 ? $"Conversations per shard must be >= 1 (got {ConversationsPerShard})." :
        (Conversations + ConversationsPerShard - 1) / ConversationsPerShard < 2 ? "Synthesis needs at least two shards (one is held out for evaluation); lower conversations per shard." :
        ChunkMinTokens < 1 || ChunkMaxTokens < ChunkMinTokens ? $"Chunk bounds must satisfy 1 <= min <= max (got {ChunkMinTokens}..{ChunkMaxTokens})." :
        MaxQuestionTokens < 1 ? $"Max question tokens must be >= 1 (got {MaxQuestionTokens})." :
        MaxAnswerTokens < 1 ? $"Max answer tokens must be >= 1 (got {MaxAnswerTokens})." :
        ConversationsPerChunk < 1 ? $"Conversations per chunk must be >= 1 (got {ConversationsPerChunk})." : null;
}

/// <summary>How long and how the cartridge is trained.</summary>
[GenerateSerializer, Immutable]
public sealed record TrainingBudget
{
    /// <summary>Optimizer steps.</summary>
    [Id(0)] public int Steps { get; init; } = 100;

    /// <summary>Sequences per optimizer step.</summary>
    [Id(1)] public int BatchSize { get; init; } = 64;

    /// <summary>Constant Adam learning rate.</summary>
    [Id(2)] public double LearningRate { get; init; } = 2e-2;

    /// <summary>Checkpoint to the blob store every this many steps.</summary>
    [Id(3)] public int CheckpointEvery { get; init; } = 25;

    /// <summary>Seed of the data order.</summary>
    [Id(4)] public long Seed { get; init; }

    /// <summary>A clear message for the first unusable setting, or null.</summary>
    public string? Problem() =>
        Steps < 1 ? $"Training steps must be >= 1 (got {Steps})." :
        BatchSize < 1 ? $"Batch size must be >= 1 (got {BatchSize})." :
        !(LearningRate > 0) || double.IsInfinity(LearningRate) ? $"The learning rate must be positive (got {LearningRate})." :
        CheckpointEvery < 1 ? $"Checkpoint interval must be >= 1 step (got {CheckpointEvery})." : null;
}
