using Cartridges.Model.Config;
using Cartridges.Model.Engine;
using Cartridges.Model.Scoring;
using Cartridges.Model.Tests.Support;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Engine;

/// <summary>Log-probabilities reported with generated tokens: the model's raw distribution at each position.</summary>
public sealed class LogProbsTests
{
    [Fact]
    public void From_IsTheLogSoftmax_WithTheBestTokensInOrder()
    {
        float[] logits = [1f, 3f, -2f, 3f, 0.5f, 2f];
        var lp = TokenLogProbs.From(logits, token: 4, top: 3);
        var reference = tensor(logits).log_softmax(0).data<float>().ToArray();
        Assert.Equal(reference[4], lp.LogProb, 6);
        // Highest first; the tie between ids 1 and 3 goes to the lower id.
        Assert.Equal([1, 3, 5], lp.Top.Select(t => t.Token));
        foreach (var (token, logProb) in lp.Top) Assert.Equal(reference[token], logProb, 6);
        Assert.Empty(TokenLogProbs.From(logits, 0, 0).Top);
        Assert.Equal(6, TokenLogProbs.From(logits, 0, 50).Top.Count);
    }

    [Fact]
    public async Task Engine_ReportsEachTokensLogProb_AsAFullForwardPassGivesIt_WithoutChangingTheTokens()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Llama), new EngineOptions { MaxBatch = 4, InitialCacheLength = 32 });
        var prompt = TestModels.Tokens(9, 7);
        GenerationRequest Request(SamplingParams s) => new() { Prompt = prompt, Sampling = s };
        var sampled = new SamplingParams { Temperature = 0.9f, TopK = 30, Seed = 5, MaxTokens = 8 };
        var plain = await engine.GenerateAsync(Request(sampled));
        var handle = engine.Submit(Request(sampled with { LogProbs = 4 }));
        var withLogProbs = await handle.Completion;
        Assert.Equal(plain.Tokens, withLogProbs.Tokens); // asking for log-probabilities changes no draw

        var reference = await engine.RunAsync(model =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            int[] sequence = [.. prompt, .. withLogProbs.Tokens];
            return SequenceScorer.Logits(model, [sequence])[0].narrow(0, prompt.Length - 1, withLogProbs.Tokens.Count)
                .log_softmax(-1).data<float>().ToArray();
        });
        var vocab = reference.Length / withLogProbs.Tokens.Count;
        for (var k = 0; k < withLogProbs.Tokens.Count; k++)
        {
            var lp = handle.LogProbsAt(k)!;
            Assert.Equal(withLogProbs.Tokens[k], lp.Token);
            // The engine's cached decode agrees with one full forward pass to ~1e-6 in logits (CacheEquivalenceTests).
            Assert.True(Math.Abs(reference[k * vocab + lp.Token] - lp.LogProb) < 1e-4, $"token {k}: {lp.LogProb} vs {reference[k * vocab + lp.Token]}");
            Assert.Equal(4, lp.Top.Count);
            Assert.True(lp.Top.Zip(lp.Top.Skip(1)).All(p => p.First.LogProb >= p.Second.LogProb));
            Assert.True(lp.Top[0].LogProb >= lp.LogProb);
        }
        Assert.Null(handle.LogProbsAt(withLogProbs.Tokens.Count));
    }

    [Fact]
    public async Task Greedy_WithLogProbs_ChoosesTheTopAlternative()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Qwen3), new EngineOptions { MaxBatch = 4, InitialCacheLength = 32 });
        var handle = engine.Submit(new GenerationRequest { Prompt = TestModels.Tokens(6, 3), Sampling = SamplingParams.Greedy(6) with { LogProbs = 2 } });
        var result = await handle.Completion;
        for (var k = 0; k < result.Tokens.Count; k++)
        {
            var lp = handle.LogProbsAt(k)!;
            Assert.Equal(lp.Top[0].Token, lp.Token);
            Assert.Equal(lp.Top[0].LogProb, lp.LogProb);
        }
        Assert.Throws<ArgumentException>(() => (SamplingParams.Greedy(4) with { LogProbs = 21 }).Validate());
    }
}
