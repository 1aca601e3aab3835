using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>Builds prefixes from tokens: one forward pass, keeping every layer's rotated keys and values.</summary>
public static class PrefixBuilder
{
    /// <summary>The keys/values of `tokens` at positions 0..n-1 (after `after`'s segments if given).</summary>
    public static KvPrefix FromTokens(TransformerModel model, IReadOnlyList<int> tokens, IReadOnlyList<PrefixSegment>? after = null)
    {
        if (tokens.Count == 0) throw new ArgumentException("A prefix needs at least one token.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var cache = model.NewCache(1, tokens.Count);
        var slot = cache.Allocate();
        model.Forward(new ForwardBatch
        {
            Tokens = tensor(tokens.Select(t => (long)t).ToArray(), device: model.Device).view(1, -1),
            Cache = cache,
            Slots = [slot],
            Prefixes = after is null ? null : [after],
        });
        var prefix = cache.ToPrefix(slot, tokens.Count);
        // The prefix owns its tensors (disposed with it), independent of the caller's scopes.
        foreach (var t in prefix.Keys.Concat(prefix.Values)) t.DetachFromDisposeScope();
        return prefix;
    }
}
