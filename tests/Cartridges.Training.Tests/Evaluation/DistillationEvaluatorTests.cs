using Cartridges.Model.Scoring;
using Cartridges.Model.Transformer;
using Cartridges.Training.Distillation;
using Cartridges.Training.Evaluation;
using Cartridges.Training.Tests.Distillation;
using Cartridges.Training.Tests.Support;
using static TorchSharp.torch;

namespace Cartridges.Training.Tests.Evaluation;

/// <summary>Held-out scoring reads only the answer rows through the LM head; it must score what the full logits score.</summary>
public sealed class DistillationEvaluatorTests
{
    [Fact]
    public void Score_FromTheAnswerRowsOnly_EqualsTheScoreOfTheFullLogits()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var examples = DistillationFixtures.Examples(model, tok, 6);
        using var cartridge = DistillationFixtures.InitialCartridge(model, tok);
        using var prefix = cartridge.ToServingPrefix();
        var segments = new[] { new PrefixSegment(prefix, 0) };

        var score = DistillationEvaluator.Score(model, examples, segments, batchSize: 4);

        // Reference: the whole [B, T, V] tensor, as scoring used to build it.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double sum = 0;
        var tokens = 0;
        foreach (var batch in examples.Chunk(4))
        {
            var full = SequenceScorer.Logits(model, batch.Select(e => (IReadOnlyList<int>)e.Tokens).ToArray(), segments);
            var (s, n) = DistillationLoss.Compute(full, batch);
            sum += s.item<float>();
            tokens += n;
        }
        Assert.Equal(tokens, score.Tokens);
        // Both are f32 logits of the same hidden rows, through LM-head products of different shapes (rows only vs all
        // rows): ~1e-6 relative per logit, so a mean loss of a few nats agrees to ~1e-5; 1e-4 leaves a 10x margin for
        // other BLAS kernels.
        Assert.InRange(Math.Abs(sum / tokens - score.Loss), 0, 1e-4);
        Assert.InRange(score.Top1Agreement, 0, 1);

        // Answer perplexity: the same rows either way.
        var items = examples.Select(e => (e.Tokens, AnswerStart: e.Tokens.Length / 2)).ToList();
        var rows = DistillationEvaluator.AnswerLogPerplexity(model, items, segments);
        double nll = 0;
        long count = 0;
        foreach (var (t, start) in items)
        {
            var logProbs = SequenceScorer.Logits(model, [t], segments)[0].log_softmax(-1);
            for (var i = start; i < t.Length; i++) nll -= logProbs[i - 1, t[i]].item<float>();
            count += t.Length - start;
        }
        Assert.InRange(Math.Abs(nll / count - rows), 0, 1e-4); // same bound and margin as above
    }
}
