// Attention over [prefix segments (shared, by reference)] ++ [each sequence's own keys]. Each part yields its
// normalised output and the log-sum-exp of its scores; parts merge exactly as one softmax over the
// concatenated keys would (out = Σ out_i·exp(lse_i − lse), lse = logaddexp of the parts). Prefix keys are never
// expanded or copied: every query of every sequence on a segment is folded into the rows of one
// [n_kv, rows, D] matmul against the segment's [n_kv, P, D] keys.
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Cartridges.Model.Runtime;

namespace Cartridges.Model.Transformer;

/// <summary>Grouped-query attention with shared prefixes; softmax arithmetic in float32.</summary>
internal static class PrefixAttention
{
    /// <summary>A part's normalised output [.., rows, D] and log-sum-exp [.., rows, 1] (null when not needed).</summary>
    internal record struct Part(Tensor Out, Tensor? Lse);

    /// <summary>
    /// q: [B, n_kv, G*T, D] (rows g*T + i); kOwn/vOwn: [B, n_kv, Lk, D]; notAllowed: [B, 1, 1, T, Lk] (true = masked);
    /// causal: the own keys are exactly these T tokens (no cache), so a plain causal mask is exact.
    /// segments: per sequence, its prefix segments. Returns [B, n_kv, G*T, D] in q's dtype.
    /// </summary>
    public static Tensor Forward(Tensor q, Tensor kOwn, Tensor vOwn, Tensor notAllowed, int groups, bool causal,
        IReadOnlyList<PrefixSegment>[]? segments, int layer)
    {
        var b = q.shape[0];
        var kvHeads = q.shape[1];
        var rows = q.shape[2];
        var d = q.shape[3];
        var t = rows / groups;
        var maxSegments = segments?.Max(x => x?.Count ?? 0) ?? 0;

        if (maxSegments == 0 && t > 1)
        {
            // Prompt pass with no prefix: libtorch's fused kernel is ~4x faster than explicit softmax here.
            var q4 = q.view(b, kvHeads * groups, t, d);
            var k4 = kOwn.repeat_interleave(groups, 1);
            var v4 = vOwn.repeat_interleave(groups, 1);
            var o = causal
                ? F.scaled_dot_product_attention(q4, k4, v4, null, 0, true)
                : F.scaled_dot_product_attention(q4, k4, v4, notAllowed.logical_not().view(b, 1, t, -1));
            return o.view(b, kvHeads, rows, d);
        }

        if (causal && t > 1 && SharedSegments(segments) is { } shared && (is_grad_enabled() || t * 4 >= PrefixSegment.TotalLength(shared)))
            return FusedWithPrefix(q, kOwn, vOwn, groups, shared, layer);

        var scale = 1.0 / Math.Sqrt(d);
        var s = matmul(q.Times(scale), kOwn.transpose(-1, -2)).to(ScalarType.Float32);
        s = s.view(b, kvHeads, groups, t, -1).masked_fill(notAllowed, HeldScalars.Of(double.NegativeInfinity)).view(b, kvHeads, rows, -1);
        var own = Softmax(s, vOwn, needLse: maxSegments > 0);
        for (var ordinal = 0; ordinal < maxSegments; ordinal++)
            own = MergeOrdinal(q.Times(scale), own, segments!, ordinal, layer);
        return own.Out.to(q.dtype);
    }

    /// <summary>The one segment list every sequence of the batch attends to, or null when they differ.</summary>
    static IReadOnlyList<PrefixSegment>? SharedSegments(IReadOnlyList<PrefixSegment>[]? segments)
    {
        if (segments is null || segments.Length == 0 || segments[0] is not { Count: > 0 } first) return null;
        foreach (var other in segments)
            if (other is null || !(ReferenceEquals(other, first) || other.SequenceEqual(first))) return null;
        return first;
    }

    /// <summary>
    /// A pass without a cache over prefix keys every sequence shares, as one fused causal attention call: libtorch's
    /// flash kernel keeps its memory linear in the sequence (forward and backward, which recomputes the scores) where
    /// the explicit path keeps fp32 scores and probabilities of [rows, prefix + T] for backward. Keys are
    /// [prefix, own]; P zero queries put in front align the causal mask's top-left corner so that real query i sees
    /// every prefix key and own keys 0..i. Their outputs are dropped, so they add no gradient.
    /// q: [B, n_kv, G*T, D]; kOwn/vOwn: [B, n_kv, T, D]. Returns [B, n_kv, G*T, D].
    /// </summary>
    internal static Tensor FusedWithPrefix(Tensor q, Tensor kOwn, Tensor vOwn, int groups, IReadOnlyList<PrefixSegment> segments, int layer)
    {
        var b = q.shape[0];
        var kvHeads = q.shape[1];
        var d = q.shape[3];
        var t = q.shape[2] / groups;
        Tensor Prefix(Func<KvPrefix, Tensor[]> pick) =>
            cat([.. segments.Select(seg => pick(seg.Prefix)[layer].narrow(1, seg.Start, seg.Length))], 1)
                .to(q.dtype).repeat_interleave(groups, 0).unsqueeze(0).expand(b, -1, -1, -1);
        var pk = Prefix(p => p.Keys);
        var pv = Prefix(p => p.Values);
        var p = pk.shape[2];
        var keys = cat([pk, kOwn.repeat_interleave(groups, 1)], 2);
        var values = cat([pv, vOwn.repeat_interleave(groups, 1)], 2);
        var q4 = cat([zeros(b, kvHeads * groups, p, d, q.dtype, q.device), q.view(b, kvHeads * groups, t, d)], 2);
        var o = F.scaled_dot_product_attention(q4, keys, values, null, 0, true).narrow(2, p, t);
        return o.reshape(b, kvHeads, groups * t, d);
    }

    static Part Softmax(Tensor scores, Tensor v, bool needLse)
    {
        var p = scores.softmax(-1);
        var lse = needLse ? scores.logsumexp(-1, keepdim: true) : null;
        return new Part(matmul(p.to(v.dtype), v).to(ScalarType.Float32), lse);
    }

    /// <summary>Merges, for every sequence, its ordinal-th segment (sequences grouped by segment).</summary>
    static Part MergeOrdinal(Tensor qScaled, Part state, IReadOnlyList<PrefixSegment>[] segments, int ordinal, int layer)
    {
        var groups = new Dictionary<PrefixSegment, List<long>>();
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i] is null || segments[i].Count <= ordinal) continue;
            var seg = segments[i][ordinal];
            if (!groups.TryGetValue(seg, out var list)) groups[seg] = list = [];
            list.Add(i);
        }
        var b = qScaled.shape[0];
        foreach (var (seg, members) in groups)
        {
            var whole = members.Count == b;
            using var idx = whole ? null : tensor(members.ToArray(), device: qScaled.device);
            var part = SegmentPart(whole ? qScaled : qScaled.index_select(0, idx!), seg, layer);
            if (whole)
            {
                state = Merge(state, part);
                continue;
            }
            var merged = Merge(new Part(state.Out.index_select(0, idx!), state.Lse!.index_select(0, idx!)), part);
            state = new Part(state.Out.index_copy(0, idx!, merged.Out), state.Lse.index_copy(0, idx!, merged.Lse!));
        }
        return state;
    }

    /// <summary>Attention of qs [Bs, n_kv, R, D] over one segment's keys [n_kv, P, D], as a Part in qs's layout.</summary>
    static Part SegmentPart(Tensor qs, PrefixSegment seg, int layer)
    {
        var bs = qs.shape[0];
        var kvHeads = qs.shape[1];
        var rows = qs.shape[2];
        var d = qs.shape[3];
        var k = seg.Prefix.Keys[layer];
        var v = seg.Prefix.Values[layer];
        if (seg.Start > 0)
        {
            k = k.narrow(1, seg.Start, seg.Length);
            v = v.narrow(1, seg.Start, seg.Length);
        }
        // Fold batch and rows together: [n_kv, Bs*R, D] against [n_kv, P, D].
        var q2 = qs.transpose(0, 1).reshape(kvHeads, bs * rows, d);
        var scores = bmm(q2, k.to(q2.dtype).transpose(1, 2)).to(ScalarType.Float32);
        var part = Softmax(scores, v.to(q2.dtype), needLse: true);
        Tensor Back(Tensor x) => x.view(kvHeads, bs, rows, -1).transpose(0, 1);
        return new Part(Back(part.Out), Back(part.Lse!));
    }

    static Part Merge(Part a, Part b)
    {
        var lse = logaddexp(a.Lse!, b.Lse!);
        return new Part((a.Out * (a.Lse! - lse).exp()).Plus(b.Out * (b.Lse! - lse).exp()), lse);
    }
}
