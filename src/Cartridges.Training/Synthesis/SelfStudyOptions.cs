// Settings of one self-study batch (method §3). Defaults are the paper's: chunks of 512-4096 tokens, A sampled at
// T=0.6 for up to 512 tokens with a chain-of-thought instruction 20% of the time, B greedy for up to 1024 tokens,
// the teacher's top-20 log-probabilities for every answer token.
namespace Cartridges.Training.Synthesis;

/// <summary>How each self-study batch is sampled and scored.</summary>
public sealed record SelfStudyOptions
{
    /// <summary>Shortest chunk, in tokens (a shorter corpus is used whole).</summary>
    public int ChunkMinTokens { get; init; } = 512;

    /// <summary>Longest chunk, in tokens.</summary>
    public int ChunkMaxTokens { get; init; } = 4096;

    /// <summary>One line introducing every chunk.</summary>
    public string CorpusDescription { get; init; } = TokenChunker.DefaultDescription;

    /// <summary>Conversations that share one chunk (and its KV prefix); they are decoded together.</summary>
    public int ConversationsPerChunk { get; init; } = 32;

    /// <summary>Participant A's sampling temperature.</summary>
    public float QuestionTemperature { get; init; } = 0.6f;

    /// <summary>Most tokens A may write.</summary>
    public int MaxQuestionTokens { get; init; } = 512;

    /// <summary>Most tokens B may write (greedy).</summary>
    public int MaxAnswerTokens { get; init; } = 1024;

    /// <summary>Probability that a chain-of-thought instruction is appended to A's message.</summary>
    public double ChainOfThoughtProbability { get; init; } = 0.2;

    /// <summary>Teacher log-probabilities kept per answer token.</summary>
    public int TopK { get; init; } = 20;

    /// <summary>Use only the generic seed prompt (the ablation) instead of the five families.</summary>
    public bool GenericSeedOnly { get; init; }

    /// <summary>Share the chunk's KV among the batch (true, the method) or recompute it per conversation (benchmark baseline).</summary>
    public bool ShareChunkPrefix { get; init; } = true;

    /// <summary>Most (padded) tokens per teacher scoring call; bounds the [B, T, vocab] logits held at once.</summary>
    public int ScoreBatchTokens { get; init; } = 2048;

    /// <summary>
    /// The system prompt around a chunk; {chunk} marks where it goes. Our own wording of the paper's prompt: talk
    /// about the material directly, with exact facts, without "according to the passage" openers.
    /// </summary>
    public string SystemPromptTemplate { get; init; } =
        "You are in a conversation about the reference material below. Use it to give accurate, specific replies, " +
        "keeping names, dates, places and numbers exactly as they appear. Speak about the content directly; do not " +
        "open with phrases such as \"According to the passage\" or \"Based on the text\".\n\n<corpus>\n{chunk}\n</corpus>";

    /// <summary>Throws a clear error for out-of-range settings.</summary>
    public void Validate()
    {
        if (ChunkMinTokens < 1 || ChunkMaxTokens < ChunkMinTokens)
            throw new ArgumentException($"Chunk bounds must satisfy 1 <= min <= max (got {ChunkMinTokens}..{ChunkMaxTokens}).");
        if (ConversationsPerChunk < 1) throw new ArgumentException($"Conversations per chunk must be >= 1 (got {ConversationsPerChunk}).");
        if (!(QuestionTemperature > 0) || float.IsInfinity(QuestionTemperature))
            throw new ArgumentException($"Question temperature must be > 0 (got {QuestionTemperature}).");
        if (MaxQuestionTokens < 1) throw new ArgumentException($"Max question tokens must be >= 1 (got {MaxQuestionTokens}).");
        if (MaxAnswerTokens < 1) throw new ArgumentException($"Max answer tokens must be >= 1 (got {MaxAnswerTokens}).");
        if (!(ChainOfThoughtProbability >= 0 && ChainOfThoughtProbability <= 1))
            throw new ArgumentException($"Chain-of-thought probability must be in [0, 1] (got {ChainOfThoughtProbability}).");
        if (TopK < 1) throw new ArgumentException($"Top-k must be >= 1 (got {TopK}).");
        if (ScoreBatchTokens < 1) throw new ArgumentException($"Score batch tokens must be >= 1 (got {ScoreBatchTokens}).");
        if (!SystemPromptTemplate.Contains("{chunk}", StringComparison.Ordinal))
            throw new ArgumentException("The system prompt template must contain {chunk}.");
        ArgumentNullException.ThrowIfNull(CorpusDescription);
    }
}
