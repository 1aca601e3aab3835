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

    readonly List<TokenLogProbs> _logProbs = [];

    internal void AddLogProbs(TokenLogProbs entry)
    {
        lock (_logProbs) _logProbs.Add(entry);
    }

    /// <summary>Log-probabilities of the <paramref name="index"/>-th generated token (null unless the request asked for them).</summary>
    public TokenLogProbs? LogProbsAt(int index)
    {
        lock (_logProbs) return index < _logProbs.Count ? _logProbs[index] : null;
    }

    /// <summary>Streams tokens until the sequence ends.</summary>
    public IAsyncEnumerable<int> StreamAsync(CancellationToken ct = default) => Channel.Reader.ReadAllAsync(ct);
}
