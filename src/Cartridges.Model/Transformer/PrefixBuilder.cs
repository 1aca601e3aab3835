using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>Builds prefixes from tokens, keeping every layer's rotated keys and values.</summary>
public static class PrefixBuilder
{
    /// <summary>Tokens per forward pass when a prefix or prompt is fed in pieces (the engine's default prefill chunk).</summary>
    public const int DefaultChunkTokens = 512;

    /// <summary>
    /// The keys/values of `tokens` at positions 0..n-1 (after `after`'s segments if given), fed through the model in
    /// passes of at most <paramref name="chunkTokens"/> tokens: each pass attends to the keys cached so far, so peak
    /// memory grows linearly with the document instead of with its square, and the result equals one whole pass.
    /// </summary>
    public static KvPrefix FromTokens(TransformerModel model, IReadOnlyList<int> tokens, IReadOnlyList<PrefixSegment>? after = null,
        int chunkTokens = DefaultChunkTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (tokens.Count == 0) throw new ArgumentException("A prefix needs at least one token.");
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var cache = model.NewCache(1, tokens.Count);
        var slot = cache.Allocate();
        for (var start = 0; start < tokens.Count; start += chunkTokens)
        {
            using var pass = NewDisposeScope();
            var n = Math.Min(chunkTokens, tokens.Count - start);
            model.Forward(new ForwardBatch
            {
                Tokens = tensor(tokens.Skip(start).Take(n).Select(t => (long)t).ToArray(), device: model.Device).view(1, -1),
                Cache = cache,
                Slots = [slot],
                Prefixes = after is null ? null : [after],
            });
        }
        var prefix = cache.ToPrefix(slot, tokens.Count);
        // The prefix owns its tensors (disposed with it), independent of the caller's scopes.
        foreach (var t in prefix.Keys.Concat(prefix.Values)) t.DetachFromDisposeScope();
        return prefix;
    }
}
