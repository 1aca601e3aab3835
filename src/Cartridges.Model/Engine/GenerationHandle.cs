using System.Threading.Channels;

namespace Cartridges.Model.Engine;

/// <summary>A submitted generation: tokens stream as they are produced; Completion gives the whole result.</summary>
public sealed class GenerationHandle
{
    internal Channel<int> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<int>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    internal TaskCompletionSource<GenerationResult> Source { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Tokens in order, as the engine produces them.</summary>
    public ChannelReader<int> Tokens => Channel.Reader;

    /// <summary>Completes when the sequence finishes (or faults with the engine's error).</summary>
    public Task<GenerationResult> Completion => Source.Task;

    /// <summary>Streams tokens until the sequence ends.</summary>
    public IAsyncEnumerable<int> StreamAsync(CancellationToken ct = default) => Channel.Reader.ReadAllAsync(ct);
}
