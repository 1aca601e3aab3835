using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using static TorchSharp.torch;

namespace Cartridges.Training.Tests.Distillation;

/// <summary>The distillation and next-token losses against numbers worked out by hand on a 3-token vocabulary.</summary>
public sealed class DistillationLossTests
{
    // Logits [2, 3, 3]. Sequence 0, position 0: z = [0, 0, 0] → log p = −ln 3 for every id.
    // Sequence 0, position 1: z = [ln 2, 0, 0] → p = [1/2, 1/4, 1/4]. Position 2 predicts nothing (huge values, ignored).
    // Sequence 1 (2 tokens, right-padded), position 0: z = [0, ln 3, 0] → p = [1/5, 3/5, 1/5]; position 1 is padding.
    static Tensor Logits() => tensor(new[]
    {
        0f, 0f, 0f, MathF.Log(2), 0f, 0f, 50f, -50f, 9f,
        0f, MathF.Log(3), 0f, 40f, 40f, -40f, 7f, 7f, 7f,
    }).view(2, 3, 3);

    [Fact]
    public void DistillationLoss_MatchesHandComputedValue()
    {
        using var scope = NewDisposeScope();
        TrainingExample[] batch =
        [
            // Token 1: teacher {id 2: 0.6, id 0: 0.3} (0.1 of its mass outside the top-k, not renormalised).
            //   −(0.6·(−ln 3) + 0.3·(−ln 3)) = 0.9 ln 3
            // Token 2: teacher {id 0: 0.5, id 1: 0.25} → −(0.5 ln ½ + 0.25 ln ¼) = 0.5 ln 2 + 0.5 ln 2 = ln 2
            new([7, 2, 0], [false, true, true], [[2, 0], [0, 1]], [[MathF.Log(0.6f), MathF.Log(0.3f)], [MathF.Log(0.5f), MathF.Log(0.25f)]]),
            // Token 1: teacher {id 1: 1.0} → −ln(3/5) = ln(5/3). A shorter top-k row than the first example's.
            new([4, 1], [false, true], [[1]], [[0f]]),
        ];
        var (sum, tokens) = DistillationLoss.Compute(Logits(), batch);
        var expected = 0.9 * Math.Log(3) + Math.Log(2) + Math.Log(5.0 / 3.0);
        Assert.Equal(3, tokens);
        Assert.Equal(expected, sum.item<float>(), 5);
    }

    [Fact]
    public void DistillationLoss_SkipsUnmarkedTokens_AndItsGradientIsStudentMinusTeacher()
    {
        using var scope = NewDisposeScope();
        var logits = Logits().requires_grad_(true);
        // Only token 2 of sequence 0 is marked; its teacher is one-hot on id 0 → loss = −ln ½ = ln 2.
        TrainingExample[] batch = [new([7, 2, 0], [false, false, true], [[0]], [[0f]]), new([4, 1], [false, false], [], [])];
        var (sum, tokens) = DistillationLoss.Compute(logits, batch);
        Assert.Equal(1, tokens);
        Assert.Equal(Math.Log(2), sum.item<float>(), 5);
        sum.backward();
        // d/dz of −log softmax(z)[0] = softmax(z) − onehot(0) = [½ − 1, ¼, ¼] at (0, 1); zero everywhere else.
        var grad = logits.grad!;
        Assert.Equal(-0.5f, grad[0, 1, 0].item<float>(), 5);
        Assert.Equal(0.25f, grad[0, 1, 1].item<float>(), 5);
        Assert.Equal(0f, grad.abs().sum().item<float>() - grad[0, 1].abs().sum().item<float>(), 6);
    }

    [Fact]
    public void NextTokenLoss_MatchesHandComputedValue()
    {
        using var scope = NewDisposeScope();
        // Sequence 0 = [0, 2, 1]: −log p(2 | z0) − log p(1 | z1) = ln 3 + ln 4 = ln 12.
        // Sequence 1 = [0, 1]:    −log p(1 | z0) = ln(5/3).
        var (sum, tokens) = NextTokenLoss.Compute(Logits(), [[0, 2, 1], [0, 1]]);
        Assert.Equal(3, tokens);
        Assert.Equal(Math.Log(12) + Math.Log(5.0 / 3.0), sum.item<float>(), 5);
    }

    [Fact]
    public void Losses_RejectIdsOutsideTheVocabulary_AndMismatchedLogits()
    {
        using var scope = NewDisposeScope();
        TrainingExample[] bad = [new([7, 2], [false, true], [[5]], [[0f]]), new([1, 1], [false, true], [[0]], [[0f]])];
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => DistillationLoss.Compute(Logits(), bad)).Message);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => NextTokenLoss.Compute(Logits(), [[0, 3], [0, 1]])).Message);
        Assert.Contains("Expected logits [1, T, V]", Assert.Throws<ArgumentException>(() => NextTokenLoss.Compute(Logits(), [[0, 1]])).Message);
    }
}
