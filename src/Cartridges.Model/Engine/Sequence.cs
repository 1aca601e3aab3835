using System.Diagnostics;

namespace Cartridges.Model.Engine;

/// <summary>Engine-side state of one generation (no tensors: its keys live in the KV cache slot).</summary>
internal sealed class Sequence
{
    public required long Id { get; init; }
    public required GenerationRequest Request { get; init; }
    public required GenerationHandle Handle { get; init; }
    public required Sampler Sampler { get; init; }
    public CancellationToken Cancellation { get; init; }
    public Stopwatch Clock { get; } = Stopwatch.StartNew();
    public TimeSpan? FirstToken { get; set; }
    public List<int> Generated { get; } = [];
    public int Slot { get; set; } = -1;
    public int PrefixLength { get; set; }
    public Transformer.PrefixSegment[] Segments { get; set; } = [];

    /// <summary>Prompt tokens already fed to the cache (prefill runs in chunks, between decode steps).</summary>
    public int Prefilled { get; set; }

    /// <summary>After a preemption: the tokens to feed again (prompt and all but the last generated token), else null.</summary>
    public List<int>? Replay { get; set; }

    /// <summary>The tokens prefill feeds: the prompt, or the replay after a preemption.</summary>
    public IReadOnlyList<int> Feed => Replay ?? (IReadOnlyList<int>)Request.Prompt;

    /// <summary>True while the sequence holds its prefixes (from admission to its end, preemptions included).</summary>
    public bool HoldsPrefixes { get; set; }

    /// <summary>True once the whole prompt is in the cache and the first token was chosen.</summary>
    public bool Decoding => Generated.Count > 0 && Replay is null;

    /// <summary>Position the next fed token will occupy.</summary>
    public int NextPosition => PrefixLength + Request.Prompt.Count + Generated.Count - 1;
}
