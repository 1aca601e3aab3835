// Upper bounds on what one cartridge may ask of the cluster. A budget of 2e9 steps is not a long job but a job
// that never ends and blocks its silo, so every knob that scales work or memory has a ceiling, checked when the
// cartridge is created (the silo's defaults; a tenant's may be tighter).
namespace Cartridges.Abstractions;

/// <summary>Ceilings on a cartridge spec's budgets; null leaves a knob unbounded.</summary>
[GenerateSerializer, Immutable]
public sealed record BudgetLimits
{
    /// <summary>Most self-study conversations (the paper uses up to ~130k per corpus).</summary>
    [Id(0)] public int? MaxConversations { get; init; } = 131_072;

    /// <summary>Most optimizer steps.</summary>
    [Id(1)] public int? MaxSteps { get; init; } = 20_000;

    /// <summary>Most sequences per optimizer step.</summary>
    [Id(2)] public int? MaxBatchSize { get; init; } = 1024;

    /// <summary>Most tokens participant A may write per question.</summary>
    [Id(3)] public int? MaxQuestionTokens { get; init; } = 2048;

    /// <summary>Most tokens participant B may write per answer.</summary>
    [Id(4)] public int? MaxAnswerTokens { get; init; } = 4096;

    /// <summary>Most conversations sharing one chunk's KV (decoded together).</summary>
    [Id(5)] public int? MaxConversationsPerChunk { get; init; } = 256;

    /// <summary>Most cartridge tokens.</summary>
    [Id(6)] public int? MaxSizeTokens { get; init; } = 65_536;

    /// <summary>These limits tightened by <paramref name="other"/> (the smaller of each pair; null = no bound).</summary>
    public BudgetLimits Tighten(BudgetLimits? other) => other is null ? this : new()
    {
        MaxConversations = Min(MaxConversations, other.MaxConversations),
        MaxSteps = Min(MaxSteps, other.MaxSteps),
        MaxBatchSize = Min(MaxBatchSize, other.MaxBatchSize),
        MaxQuestionTokens = Min(MaxQuestionTokens, other.MaxQuestionTokens),
        MaxAnswerTokens = Min(MaxAnswerTokens, other.MaxAnswerTokens),
        MaxConversationsPerChunk = Min(MaxConversationsPerChunk, other.MaxConversationsPerChunk),
        MaxSizeTokens = Min(MaxSizeTokens, other.MaxSizeTokens),
    };

    /// <summary>The first budget over its limit, as (API field name, message), or null when the spec is within every limit.</summary>
    public (string Field, string Message)? Problem(CartridgeSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        (string, int, int?)[] checks =
        [
            ("size_tokens", spec.SizeTokens, MaxSizeTokens),
            ("synthesis.conversations", spec.Synthesis.Conversations, MaxConversations),
            ("synthesis.max_question_tokens", spec.Synthesis.MaxQuestionTokens, MaxQuestionTokens),
            ("synthesis.max_answer_tokens", spec.Synthesis.MaxAnswerTokens, MaxAnswerTokens),
            ("synthesis.conversations_per_chunk", spec.Synthesis.ConversationsPerChunk, MaxConversationsPerChunk),
            ("training.steps", spec.Training.Steps, MaxSteps),
            ("training.batch_size", spec.Training.BatchSize, MaxBatchSize),
        ];
        foreach (var (field, value, limit) in checks)
        {
            if (limit is { } max && value > max) return (field, $"{field} is {value}, above this server's limit of {max}.");
        }
        return null;
    }

    static int? Min(int? a, int? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}
