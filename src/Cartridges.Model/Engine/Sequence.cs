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

    /// <summary>True once the whole prompt is in the cache and the first token was chosen.</summary>
    public bool Decoding => Generated.Count > 0;

    /// <summary>Position the next fed token will occupy.</summary>
    public int NextPosition => PrefixLength + Request.Prompt.Count + Generated.Count - 1;
}
