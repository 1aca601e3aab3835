// Attention over [prefix segments (shared, by reference)] ++ [each sequence's own keys], merged with the
// online-softmax rule: each part yields (row max m, sum of exp l, unnormalised output acc), and parts combine
// exactly as one softmax over the concatenated keys would. Prefix keys are never expanded or copied:
// every query of every sequence on a segment is folded into the rows of one [n_kv, rows, D] matmul.
using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>Grouped-query attention with shared prefixes; all softmax arithmetic in float32.</summary>
internal static class PrefixAttention
{
    /// <summary>Running softmax state for [B, n_kv, G*T] query rows.</summary>
    internal record struct Part(Tensor M, Tensor L, Tensor Acc);

    /// <summary>
    /// q: [B, n_kv, G*T, D]; kOwn/vOwn: [B, n_kv, Lk, D]; notAllowed: [B, 1, 1, T, Lk] (true = masked);
    /// segments: per sequence, its prefix segments. Returns [B, n_kv, G*T, D] in q's dtype.
    /// </summary>
    public static Tensor Forward(Tensor q, Tensor kOwn, Tensor vOwn, Tensor notAllowed, int groups,
        IReadOnlyList<PrefixSegment>[]? segments, int layer)
    {
        var b = q.shape[0];
        var kvHeads = q.shape[1];
        var rows = q.shape[2];
        var t = rows / groups;
        var scale = 1.0 / Math.Sqrt(q.shape[3]);

        var s = matmul(q, kOwn.transpose(-1, -2)).to(ScalarType.Float32) * scale;
        s = s.view(b, kvHeads, groups, t, -1).masked_fill(notAllowed, float.NegativeInfinity).view(b, kvHeads, rows, -1);
        var own = Softmax(s, vOwn);

        if (segments is not null)
        {
            var maxSegments = segments.Max(x => x?.Count ?? 0);
            for (var ordinal = 0; ordinal < maxSegments; ordinal++)
                own = MergeOrdinal(q, own, segments, ordinal, layer, scale);
        }
        return (own.Acc / own.L).to(q.dtype);
    }

    static Part Softmax(Tensor scores, Tensor v)
    {
        var m = scores.amax([-1], keepdim: true);
        var p = (scores - m).exp();
        var l = p.sum(-1, keepdim: true);
        var acc = matmul(p.to(v.dtype), v).to(ScalarType.Float32);
        return new Part(m, l, acc);
    }

    /// <summary>Merges, for every sequence, its ordinal-th segment (sequences grouped by segment).</summary>
    static Part MergeOrdinal(Tensor q, Part state, IReadOnlyList<PrefixSegment>[] segments, int ordinal, int layer, double scale)
    {
        var groups = new Dictionary<PrefixSegment, List<long>>();
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i] is null || segments[i].Count <= ordinal) continue;
            var seg = segments[i][ordinal];
            if (!groups.TryGetValue(seg, out var list)) groups[seg] = list = [];
            list.Add(i);
        }
        var b = q.shape[0];
        foreach (var (seg, members) in groups)
        {
            var whole = members.Count == b;
            using var idx = whole ? null : tensor(members.ToArray(), device: q.device);
            var qs = whole ? q : q.index_select(0, idx!);
            var part = SegmentPart(qs, seg, layer, scale);
            if (whole)
            {
                state = Merge(state, part);
                continue;
            }
            var merged = Merge(new Part(state.M.index_select(0, idx!), state.L.index_select(0, idx!), state.Acc.index_select(0, idx!)), part);
            state = new Part(state.M.index_copy(0, idx!, merged.M), state.L.index_copy(0, idx!, merged.L), state.Acc.index_copy(0, idx!, merged.Acc));
        }
        return state;
    }

    /// <summary>Attention of qs [Bs, n_kv, R, D] over one segment's keys [n_kv, P, D], as a Part in qs's layout.</summary>
    static Part SegmentPart(Tensor qs, PrefixSegment seg, int layer, double scale)
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
        var scores = bmm(q2, k.to(q2.dtype).transpose(1, 2)).to(ScalarType.Float32) * scale;
        var part = Softmax(scores, v.to(q2.dtype));
        Tensor Back(Tensor x) => x.view(kvHeads, bs, rows, -1).transpose(0, 1);
        return new Part(Back(part.M), Back(part.L), Back(part.Acc));
    }

    static Part Merge(Part a, Part b)
    {
        var m = maximum(a.M, b.M);
        var wa = (a.M - m).exp();
        var wb = (b.M - m).exp();
        return new Part(m, a.L * wa + b.L * wb, a.Acc * wa + b.Acc * wb);
    }
}
