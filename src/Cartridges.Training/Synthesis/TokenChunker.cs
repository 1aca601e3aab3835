// Self-study step 1 (method §3.1): a chunk of the tokenized corpus at a random offset, its length uniform in
// [min, max] tokens, decoded back to text and introduced by a one-line description of the corpus.
using Cartridges.Model.Tokenization;

namespace Cartridges.Training.Synthesis;

/// <summary>A sampled chunk: where it lies in the corpus tokens, and the text shown to the model.</summary>
public sealed record CorpusChunk(int Offset, int Length, string Text);

/// <summary>Samples chunks of a tokenized corpus; deterministic for the Random passed in.</summary>
public sealed class TokenChunker
{
    /// <summary>The description used when the caller gives none.</summary>
    public const string DefaultDescription = "Below is a section of a document.";

    readonly HfTokenizer _tokenizer;
    readonly int[] _tokens;

    /// <summary>Creates a chunker over already tokenized corpus text.</summary>
    public TokenChunker(HfTokenizer tokenizer, IReadOnlyList<int> corpusTokens, int minTokens, int maxTokens, string description = DefaultDescription)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(corpusTokens);
        ArgumentNullException.ThrowIfNull(description);
        if (corpusTokens.Count == 0) throw new ArgumentException("The corpus is empty: there is nothing to chunk.");
        if (minTokens < 1 || maxTokens < minTokens)
            throw new ArgumentException($"Chunk length bounds must satisfy 1 <= min <= max (got min {minTokens}, max {maxTokens}).");
        if (description.Contains('\n') || description.Contains('\r'))
            throw new ArgumentException("The corpus description must be a single line.");
        _tokenizer = tokenizer;
        _tokens = [.. corpusTokens];
        MinTokens = minTokens;
        MaxTokens = maxTokens;
        Description = description.Trim();
    }

    /// <summary>Tokens in the corpus.</summary>
    public int CorpusLength => _tokens.Length;

    /// <summary>Shortest chunk requested (a shorter corpus is used whole).</summary>
    public int MinTokens { get; }

    /// <summary>Longest chunk.</summary>
    public int MaxTokens { get; }

    /// <summary>The line that introduces every chunk.</summary>
    public string Description { get; }

    /// <summary>Draws a length uniform in [min, max] (clamped to the corpus), then an offset that keeps the chunk inside.</summary>
    public CorpusChunk Sample(Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        // Always draw both numbers, so the stream the caller shares with us advances the same way for any corpus.
        var length = Math.Min(rng.Next(MinTokens, MaxTokens + 1), _tokens.Length);
        var offset = rng.Next(0, _tokens.Length - length + 1);
        return new CorpusChunk(offset, length, Render(offset, length));
    }

    /// <summary>The chunk text: description line, blank line, the decoded tokens.</summary>
    public string Render(int offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length < 1 || offset + length > _tokens.Length) throw new ArgumentOutOfRangeException(nameof(length));
        var body = _tokenizer.Decode(new ArraySegment<int>(_tokens, offset, length));
        return Description.Length == 0 ? body : $"{Description}\n\n{body}";
    }
}
