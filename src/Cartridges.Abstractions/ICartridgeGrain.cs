using Orleans.Concurrency;

namespace Cartridges.Abstractions;

/// <summary>One cartridge (key <c>tenant/name</c>): its definition, lifecycle, and questions answered from it.</summary>
public interface ICartridgeGrain : IGrainWithStringKey
{
    /// <summary>Defines the cartridge. Idempotent for the same spec; a different spec for an existing cartridge is a conflict.</summary>
    Task<CartridgeStatus> CreateAsync(CartridgeSpec spec);

    /// <summary>
    /// Defines the cartridge from an already trained cartridge file (safetensors, e.g. from <c>cartridges train</c>)
    /// and makes it Serving at once. The file must have been made for the spec's base model.
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<CartridgeStatus> ImportAsync(CartridgeSpec spec, byte[] cartridgeFile);

    /// <summary>Starts (or retries) generating → training → serving in the background and returns at once.</summary>
    Task<CartridgeStatus> StartAsync();

    /// <summary>
    /// Reads the serving tensors back from the blob store and checks their hash: a missing or corrupt blob marks the
    /// cartridge Failed (retryable: start rebuilds it) instead of failing every question. Returns the status.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<CartridgeStatus> VerifyAsync();

    /// <summary>The current status; never waits for long work.</summary>
    [AlwaysInterleave]
    Task<CartridgeStatus> GetStatusAsync();

    /// <summary>Answers a question with this cartridge (and any composed ones) as the KV prefix.</summary>
    [AlwaysInterleave, ResponseTimeout("00:10:00")]
    Task<CartridgeAnswer> AskAsync(string question, AskOptions? options = null);

    /// <summary>Answers token by token.</summary>
    [AlwaysInterleave]
    IAsyncEnumerable<AnswerChunk> AskStreamAsync(string question, AskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops generating or training at the next unit of work (a shard, an optimizer step), keeps what is durable
    /// (finished shards, the last checkpoint) and leaves the cartridge Stopped; <c>StartAsync</c> continues from there.
    /// Does nothing in other states.
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<CartridgeStatus> StopAsync();

    /// <summary>Deletes the cartridge and its resident tensors, in any state (running work is stopped first).</summary>
    [ResponseTimeout("00:05:00")]
    Task DeleteAsync();

    /// <summary>The content hash of the trained cartridge file (for composition on other silos); throws unless Serving.</summary>
    [AlwaysInterleave]
    Task<string> GetServingBlobAsync();
}
