// Log-probabilities of a generated token and of the most likely alternatives at its position, from the model's raw
// next-token distribution (before temperature, top-k or top-p), which is what OpenAI's and vLLM's `logprobs` report.
namespace Cartridges.Model.Engine;

/// <summary>The chosen token's log-probability and the <c>n</c> most likely tokens at its position.</summary>
public sealed record TokenLogProbs(int Token, float LogProb, IReadOnlyList<(int Token, float LogProb)> Top)
{
    /// <summary>Most alternatives a request may ask for (OpenAI's limit).</summary>
    public const int MaxTop = 20;

    /// <summary>log-softmax of <paramref name="logits"/> at <paramref name="token"/>, and the <paramref name="top"/> best tokens (lowest id first on ties).</summary>
    public static TokenLogProbs From(ReadOnlySpan<float> logits, int token, int top)
    {
        if ((uint)token >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(token));
        top = Math.Clamp(top, 0, Math.Min(MaxTop, logits.Length));
        var max = float.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        var logTotal = max + Math.Log(sum);
        // The best `top` ids by a single pass with a small sorted buffer: top ≤ 20, so insertion beats sorting the vocabulary.
        var best = new List<int>(top + 1);
        for (var i = 0; i < logits.Length && top > 0; i++)
        {
            if (best.Count == top && logits[i] <= logits[best[^1]]) continue;
            var at = best.Count;
            while (at > 0 && logits[best[at - 1]] < logits[i]) at--;
            best.Insert(at, i);
            if (best.Count > top) best.RemoveAt(top);
        }
        var alternatives = new (int, float)[best.Count];
        for (var k = 0; k < best.Count; k++) alternatives[k] = (best[k], (float)(logits[best[k]] - logTotal));
        return new TokenLogProbs(token, (float)(logits[token] - logTotal), alternatives);
    }
}
