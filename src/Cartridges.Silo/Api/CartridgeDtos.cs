// The /v1/cartridges request and object. Budgets use the knobs of CartridgeSpec (= `cartridges train`) in
// snake_case; unset knobs keep CartridgeSpec's defaults.
using Cartridges.Abstractions;

namespace Cartridges.Silo.Api;

/// <summary>POST /v1/cartridges (JSON body, or the fields of a multipart upload).</summary>
public sealed record CreateCartridgeRequest
{
    /// <summary>The cartridge name (unique within the tenant).</summary>
    public string? Name { get; init; }

    /// <summary>Base model name (default: the silo's default model).</summary>
    public string? Model { get; init; }

    /// <summary>The corpus text.</summary>
    public string? Corpus { get; init; }

    /// <summary>Cartridge size p in tokens.</summary>
    public int? SizeTokens { get; init; }

    /// <summary>Self-study synthesis budget.</summary>
    public SynthesisDto? Synthesis { get; init; }

    /// <summary>Training budget.</summary>
    public TrainingDto? Training { get; init; }

    /// <summary>Start generating → training right after creating.</summary>
    public bool? Start { get; init; }

    /// <summary>The spec this request describes (corpus given separately for multipart uploads).</summary>
    public CartridgeSpec ToSpec(string corpus)
    {
        var defaults = new CartridgeSpec();
        return new CartridgeSpec
        {
            BaseModel = string.IsNullOrEmpty(Model) ? defaults.BaseModel : Model,
            Corpus = corpus,
            SizeTokens = SizeTokens ?? defaults.SizeTokens,
            Synthesis = Synthesis?.Apply(defaults.Synthesis) ?? defaults.Synthesis,
            Training = Training?.Apply(defaults.Training) ?? defaults.Training,
        };
    }
}

/// <summary>Synthesis knobs (see <see cref="SynthesisBudget"/>).</summary>
public sealed record SynthesisDto(int? Conversations, int? ConversationsPerShard, int? ChunkMinTokens, int? ChunkMaxTokens,
    int? MaxQuestionTokens, int? MaxAnswerTokens, int? ConversationsPerChunk, int? EvalShards, ulong? Seed)
{
    /// <summary>The budget with these knobs set over <paramref name="b"/>.</summary>
    public SynthesisBudget Apply(SynthesisBudget b) => b with
    {
        Conversations = Conversations ?? b.Conversations,
        // Unset: sized from the conversations asked for (at least two shards, one held out).
        ConversationsPerShard = ConversationsPerShard ?? (Conversations is { } n ? SynthesisBudget.ShardSizeFor(n) : b.ConversationsPerShard),
        ChunkMinTokens = ChunkMinTokens ?? b.ChunkMinTokens,
        ChunkMaxTokens = ChunkMaxTokens ?? b.ChunkMaxTokens,
        MaxQuestionTokens = MaxQuestionTokens ?? b.MaxQuestionTokens,
        MaxAnswerTokens = MaxAnswerTokens ?? b.MaxAnswerTokens,
        ConversationsPerChunk = ConversationsPerChunk ?? b.ConversationsPerChunk,
        EvalShards = EvalShards ?? b.EvalShards,
        Seed = Seed ?? b.Seed,
    };
}

/// <summary>Training knobs (see <see cref="TrainingBudget"/>).</summary>
public sealed record TrainingDto(int? Steps, int? BatchSize, double? LearningRate, int? CheckpointEvery, long? Seed)
{
    /// <summary>The budget with these knobs set over <paramref name="b"/>.</summary>
    public TrainingBudget Apply(TrainingBudget b) => b with
    {
        Steps = Steps ?? b.Steps,
        BatchSize = BatchSize ?? b.BatchSize,
        LearningRate = LearningRate ?? b.LearningRate,
        CheckpointEvery = CheckpointEvery ?? b.CheckpointEvery,
        Seed = Seed ?? b.Seed,
    };
}

/// <summary>A cartridge as the API shows it.</summary>
public sealed record CartridgeDto(string Id, string Name, string? Model, string State, double Progress, int Step, int TotalSteps,
    double? Loss, double? EtaSeconds, string? Silo, long ResidentBytes, int SizeTokens, int ShardsDone, int ShardsTotal,
    string? Error, bool Retryable, string? Detail, long? CreatedAt, double? TokensPerSecond = null)
{
    /// <summary>Always "cartridge".</summary>
    public string Object => "cartridge";

    /// <summary>The API view of a grain status.</summary>
    public static CartridgeDto From(string name, CartridgeStatus s) => new(name, name, s.BaseModel, StateName(s.State), s.Progress, s.Step,
        s.TotalSteps, s.Loss, s.Eta?.TotalSeconds, s.Silo, s.ResidentBytes, s.SizeTokens, s.ShardsDone, s.ShardsTotal, s.Error,
        s.Retryable, s.Detail, s.CreatedAt?.ToUnixTimeSeconds(), s.TokensPerSecond);

    /// <summary>untrained | generating | training | serving | failed.</summary>
    public static string StateName(CartridgeState state) => state.ToString().ToLowerInvariant();
}

/// <summary>OpenAI's list envelope.</summary>
public sealed record ListDto<T>(IReadOnlyList<T> Data)
{
    /// <summary>Always "list".</summary>
    public string Object => "list";
}

/// <summary>The answer to DELETE, in OpenAI's deletion shape.</summary>
public sealed record DeletedDto(string Id)
{
    /// <summary>Always "cartridge.deleted".</summary>
    public string Object => "cartridge.deleted";

    /// <summary>Always true.</summary>
    public bool Deleted => true;
}

/// <summary>One entry of GET /v1/models.</summary>
public sealed record ModelDto(string Id, long Created, string OwnedBy)
{
    /// <summary>Always "model".</summary>
    public string Object => "model";
}
