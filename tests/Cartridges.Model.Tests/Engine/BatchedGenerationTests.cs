using Cartridges.Model.Config;
using Cartridges.Model.Engine;
using Cartridges.Model.Scoring;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Transformer;
using Xunit.Abstractions;

namespace Cartridges.Model.Tests.Engine;

/// <summary>Continuous batching gives each sequence exactly what it gets alone.</summary>
public sealed class BatchedGenerationTests(ITestOutputHelper output)
{
    static readonly Dictionary<string, int[]> PrefixTokens = new()
    {
        ["a"] = TestModels.Tokens(30, 100),
        ["b"] = TestModels.Tokens(17, 101),
        ["c"] = TestModels.Tokens(45, 102),
    };

    static async Task<GenerationEngine> EngineWithPrefixes(ModelFamily family)
    {
        var engine = new GenerationEngine(TestModels.Load(family), new EngineOptions { MaxBatch = 16, InitialCacheLength = 32 });
        foreach (var (id, tokens) in PrefixTokens) await engine.RegisterPrefixFromTokensAsync(id, tokens);
        return engine;
    }

    /// <summary>
    /// Bound on |Δlogit| between the engine's decode (cached, any batch size) and one full forward pass; it is what
    /// CacheEquivalenceTests assert for logits of this size (measured differences are around 1e-6).
    /// </summary>
    const double LogitTolerance = 1e-4;

    /// <summary>
    /// How many leading tokens of a greedy result are decided by the logits. The engine reports tokens, not logits, so
    /// the reference is one full forward pass over the prompt and the result (same prefixes). Where its top-1 margin
    /// exceeds 2·LogitTolerance, any computation within that tolerance picks the same token; the first position below
    /// it is a near-tie that batched and single-row kernels may break differently, and the sequences may part there.
    /// Also checks that the result is the reference arg-max over those positions.
    /// </summary>
    static Task<int> DecidedGreedyTokens(GenerationEngine engine, GenerationRequest request, IReadOnlyList<int> result) => engine.RunAsync(model =>
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        var prefixes = request.PrefixIds.Select(id => PrefixBuilder.FromTokens(model, PrefixTokens[id])).ToArray();
        try
        {
            int[] sequence = [.. request.Prompt, .. result];
            var logits = SequenceScorer.Logits(model, [sequence], prefixes.Length == 0 ? null : PrefixSegment.Compose(prefixes))[0]
                .narrow(0, request.Prompt.Count - 1, result.Count);
            var margins = LogitChecks.TopMargins(logits);
            var argmax = logits.argmax(-1).data<long>().ToArray();
            var decided = 0;
            while (decided < result.Count && margins[decided] > 2 * LogitTolerance)
            {
                Assert.Equal(argmax[decided], result[decided]);
                decided++;
            }
            return decided;
        }
        finally
        {
            foreach (var p in prefixes) p.Dispose();
        }
    });

    /// <summary>
    /// Each result equals the one-by-one result: sampled rows exactly (seeded top-k draws; see MixedRequests), greedy
    /// rows over their decided leading tokens, and those must cover most greedy tokens so the check is not vacuous.
    /// </summary>
    async Task AssertSameAsAlone(GenerationEngine engine, IReadOnlyList<GenerationRequest> requests, IReadOnlyList<GenerationResult> alone,
        IReadOnlyList<GenerationResult> together)
    {
        var (compared, greedyTokens) = (0, 0);
        for (var i = 0; i < requests.Count; i++)
        {
            output.WriteLine($"seq {i}: alone {string.Join(",", alone[i].Tokens)} together {string.Join(",", together[i].Tokens)}");
            if (requests[i].Sampling.Temperature == 0)
            {
                var decided = await DecidedGreedyTokens(engine, requests[i], alone[i].Tokens);
                Assert.Equal(alone[i].Tokens.Take(decided), together[i].Tokens.Take(decided));
                (compared, greedyTokens) = (compared + decided, greedyTokens + alone[i].Tokens.Count);
                if (decided == alone[i].Tokens.Count) Assert.Equal(alone[i].FinishReason, together[i].FinishReason);
            }
            else
            {
                Assert.Equal(alone[i].Tokens, together[i].Tokens);
                Assert.Equal(alone[i].FinishReason, together[i].FinishReason);
            }
        }
        output.WriteLine($"greedy tokens compared: {compared}/{greedyTokens} (the rest follow a top-1 margin ≤ {2 * LogitTolerance:E0})");
        Assert.True(compared >= 0.8 * greedyTokens, $"only {compared}/{greedyTokens} greedy tokens are decided by the logits");
    }

    static List<GenerationRequest> MixedRequests()
    {
        string[][] prefixes = [[], ["a"], ["b"], ["c"], ["a", "b"], ["c", "a"], ["b"], ["a"], [], ["c"]];
        var requests = new List<GenerationRequest>();
        for (var i = 0; i < prefixes.Length; i++)
        {
            var sampling = (i % 3) switch
            {
                0 => SamplingParams.Greedy(6 + i),
                // Sampled rows use top-k: over a near-flat 50k-token nucleus, a 1e-6 logit difference between
                // batched and single-row BLAS kernels can move a draw across a boundary (see GenerationEngine).
                1 => new SamplingParams { Temperature = 0.8f, TopP = 0.9f, TopK = 40, Seed = (ulong)i, MaxTokens = 9 },
                _ => new SamplingParams { Temperature = 1.2f, TopK = 20, Seed = (ulong)(100 + i), MaxTokens = 12 - i % 4 },
            };
            requests.Add(new GenerationRequest { Prompt = TestModels.Tokens(2 + 3 * i, 200 + i), PrefixIds = prefixes[i], Sampling = sampling });
        }
        return requests;
    }

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public async Task Batched_EqualsOneByOne(ModelFamily family)
    {
        using var engine = await EngineWithPrefixes(family);
        var requests = MixedRequests();
        var alone = new List<GenerationResult>();
        foreach (var r in requests) alone.Add(await engine.GenerateAsync(r));

        var together = await Task.WhenAll(requests.Select(r => engine.GenerateAsync(r)));
        await AssertSameAsAlone(engine, requests, alone, together);
        Assert.True(engine.Stats.TokensGenerated > 0);
    }

    [Fact]
    public async Task SequencesJoiningAndLeavingBetweenSteps_EqualOneByOne()
    {
        using var engine = await EngineWithPrefixes(ModelFamily.Llama);
        var requests = MixedRequests();
        var alone = new List<GenerationResult>();
        foreach (var r in requests) alone.Add(await engine.GenerateAsync(r));

        // Staggered: each new request is submitted after the previous one has produced a token.
        var handles = new List<GenerationHandle>();
        foreach (var r in requests)
        {
            var h = engine.Submit(r);
            handles.Add(h);
            await h.Tokens.WaitToReadAsync();
        }
        var results = await Task.WhenAll(handles.Select(h => h.Completion));
        await AssertSameAsAlone(engine, requests, alone, results);
    }

    [Fact]
    public async Task ChunkedPrefill_GivesWhatAWholePrefillGives()
    {
        using var whole = await EngineWithPrefixes(ModelFamily.Llama);
        var requests = MixedRequests().Select((r, i) => r with { Prompt = TestModels.Tokens(20 + 9 * i, 600 + i) }).ToList();
        var alone = new List<GenerationResult>();
        foreach (var r in requests) alone.Add(await whole.GenerateAsync(r));

        // Chunks of 4 tokens: every prompt (20-101 tokens) is fed in 5-26 passes, interleaved with the others' decodes.
        using var chunked = new GenerationEngine(TestModels.Load(ModelFamily.Llama), new EngineOptions { MaxBatch = 16, InitialCacheLength = 32, PrefillChunkTokens = 4 });
        foreach (var (id, tokens) in PrefixTokens) await chunked.RegisterPrefixFromTokensAsync(id, tokens);
        var together = await Task.WhenAll(requests.Select(r => chunked.GenerateAsync(r)));
        await AssertSameAsAlone(whole, requests, alone, together);
    }

    [Fact]
    public async Task UnderATightKvBudget_PreemptedSequencesAreFedAgain_AndAnswerAsAlone()
    {
        using var whole = await EngineWithPrefixes(ModelFamily.Llama);
        var requests = MixedRequests().Select((r, i) => r with
        {
            Prompt = TestModels.Tokens(10 + 5 * i, 800 + i),
            Sampling = r.Sampling with { MaxTokens = 24 },
        }).ToList();
        var alone = new List<GenerationResult>();
        foreach (var r in requests) alone.Add(await whole.GenerateAsync(r));

        // 24 blocks of 16 tokens: about 380 own tokens for ten sequences that reach 34-79 tokens each (~570 in all),
        // so sequences wait for blocks to be admitted and running ones are preempted as their answers grow.
        var model = TestModels.Load(ModelFamily.Llama);
        var budget = 24 * KvCache.BlockBytes(model.Config, model.DType);
        using var tight = new GenerationEngine(model, new EngineOptions { MaxBatch = 16, InitialCacheLength = 32, PrefillChunkTokens = 8, KvCacheMaxBytes = budget });
        foreach (var (id, tokens) in PrefixTokens) await tight.RegisterPrefixFromTokensAsync(id, tokens);
        var together = await Task.WhenAll(requests.Select(r => tight.GenerateAsync(r)));
        output.WriteLine($"preemptions {tight.Stats.Preemptions}, pool {tight.Stats.KvBlocks} blocks");
        Assert.True(tight.Stats.Preemptions > 0, "the budget should force preemptions");
        Assert.True(tight.Stats.KvBlocks <= 24);
        await AssertSameAsAlone(whole, requests, alone, together);

        // A prompt that could never fit is refused at once, naming the budget; the engine keeps serving.
        var error = Assert.Throws<ArgumentException>(() => tight.Submit(new GenerationRequest { Prompt = TestModels.Tokens(400, 900), Sampling = SamplingParams.Greedy(2) }));
        Assert.Contains("KV cache budget holds 384 tokens", error.Message);
        Assert.Equal(alone[0].Tokens, (await tight.GenerateAsync(requests[0])).Tokens);
    }

    [Fact]
    public async Task LongPromptPrefilling_DoesNotStallARunningSequence()
    {
        // 1 token per prefill pass: the long prompt needs 300 engine steps before its first token.
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Llama), new EngineOptions { MaxBatch = 4, InitialCacheLength = 32, PrefillChunkTokens = 1 });
        var longOne = engine.Submit(new GenerationRequest { Prompt = TestModels.Tokens(300, 701), Sampling = SamplingParams.Greedy(2) });
        var running = engine.Submit(new GenerationRequest { Prompt = TestModels.Tokens(1, 700), Sampling = SamplingParams.Greedy(20) });
        var done = await running.Completion;
        // The short sequence, submitted second, finished its 20 tokens (one per step) while the long prompt was still
        // being read: a whole-prompt prefill would have given the long one its first token in its first step.
        Assert.Equal(20, done.Tokens.Count);
        Assert.False(longOne.Completion.IsCompleted);
        Assert.False(longOne.Tokens.TryPeek(out _));
        Assert.Equal(2, (await longOne.Completion).Tokens.Count);
    }

    [Fact]
    public async Task LongWorkItems_AlternateWithDecodeSteps_InsteadOfRunningBackToBack()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Llama), new EngineOptions { MaxBatch = 4, InitialCacheLength = 32 });
        using var stop = new CancellationTokenSource();
        var running = engine.Submit(new GenerationRequest { Prompt = TestModels.Tokens(4, 710), Sampling = SamplingParams.Greedy(4000) }, stop.Token);
        await running.Tokens.WaitToReadAsync();
        // Six work items of 30 ms each (a training micro-batch stands for them), posted at once while a sequence decodes.
        var seen = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => engine.RunAsync(_ =>
        {
            var tokens = engine.Stats.TokensGenerated;
            Thread.Sleep(30);
            return tokens;
        })));
        stop.Cancel();
        await running.Completion;
        output.WriteLine($"tokens generated when each work item started: {string.Join(", ", seen)}");
        // Decode steps pay back each item's device time before the next one runs, so every item starts after more tokens.
        for (var i = 1; i < seen.Length; i++) Assert.True(seen[i] > seen[i - 1], $"work items {i - 1} and {i} ran back to back: {string.Join(", ", seen)}");
    }

    [Fact]
    public async Task SixteenSequencesOnOnePrefix_AddNoPrefixCopies()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Llama), new EngineOptions { MaxBatch = 32, InitialCacheLength = 32 });
        await engine.RegisterPrefixFromTokensAsync("doc", TestModels.Tokens(400, 300));
        var before = await engine.RunAsync(_ => engine.Stats);
        using var stop = new CancellationTokenSource();
        var handles = Enumerable.Range(0, 16).Select(i => engine.Submit(new GenerationRequest
        {
            Prompt = TestModels.Tokens(4, 400 + i),
            PrefixIds = ["doc"],
            // Room for 100 tokens: on a loaded 2-core host the statistics below were once read only after some of
            // the sequences had finished 24 tokens. They are cancelled as soon as the statistics are read.
            Sampling = SamplingParams.Greedy(100),
        }, stop.Token)).ToList();
        foreach (var h in handles) await h.Tokens.WaitToReadAsync();
        // Work posted to the device thread runs between steps, when the statistics are current.
        var during = await engine.RunAsync(_ => engine.Stats);
        stop.Cancel();
        await Task.WhenAll(handles.Select(h => h.Completion));
        var kvPerToken = engine.Model.Config.KvBytesPerToken(4);
        output.WriteLine($"prefix bytes {before.PrefixBytes}; with 16 active: prefix {during.PrefixBytes}, cache {during.CacheBytes}, " +
                         $"active {during.ActiveSequences}; 16 prefix copies would be {16 * before.PrefixBytes}");
        Assert.Equal(400 * kvPerToken, before.PrefixBytes);
        Assert.Equal(16, during.ActiveSequences);
        Assert.Equal(before.PrefixBytes, during.PrefixBytes);
        // Each sequence caches only its own tokens (at most 4 + 100; the pool grows by doubling from 32 x 32 tokens to
        // at most 2048): far below one prefix copy of 400 tokens per sequence.
        Assert.True(during.CacheBytes <= 2048 * kvPerToken, $"cache bytes {during.CacheBytes}");
        Assert.True(during.CacheBytes < 16 * before.PrefixBytes / 3);
        Assert.Equal(before.WeightBytes + before.PrefixBytes + during.CacheBytes, during.ResidentBytes);
    }

    [Fact]
    public async Task IdleEngine_GivesBackCacheGrownByALongPrompt()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Llama), new EngineOptions { MaxBatch = 4, InitialCacheLength = 32 });
        var initial = engine.Stats.CacheBytes;
        var handle = engine.Submit(new GenerationRequest { Prompt = TestModels.Tokens(600, 9), Sampling = SamplingParams.Greedy(50) });
        await handle.Tokens.WaitToReadAsync();
        Assert.True((await engine.RunAsync(_ => engine.Stats)).CacheBytes > initial);
        await handle.Completion;
        await engine.RunAsync(_ => 0); // one more pass of the device loop
        Assert.Equal(initial, engine.Stats.CacheBytes);
    }

    [Fact]
    public async Task Streaming_YieldsTheResultTokens_AndCancellationStops()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Qwen3));
        var request = new GenerationRequest { Prompt = TestModels.Tokens(6, 500), Sampling = SamplingParams.Greedy(20) };
        var handle = engine.Submit(request);
        var streamed = new List<int>();
        await foreach (var t in handle.StreamAsync()) streamed.Add(t);
        var result = await handle.Completion;
        Assert.Equal(result.Tokens, streamed);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(20, result.Tokens.Count);

        using var cts = new CancellationTokenSource();
        var long1 = engine.Submit(request with { Sampling = SamplingParams.Greedy(2000) }, cts.Token);
        await long1.Tokens.WaitToReadAsync();
        cts.Cancel();
        var cancelled = await long1.Completion;
        Assert.Equal(FinishReason.Cancelled, cancelled.FinishReason);
        Assert.True(cancelled.Tokens.Count < 2000);
    }

    [Fact]
    public async Task SampledSequences_AreReproduciblePerSeed()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Qwen3));
        var request = new GenerationRequest
        {
            Prompt = TestModels.Tokens(5, 700),
            Sampling = new SamplingParams { Temperature = 1.0f, TopP = 0.95f, Seed = 42, MaxTokens = 16 },
        };
        var first = await engine.GenerateAsync(request);
        var again = await engine.GenerateAsync(request);
        var otherSeed = await engine.GenerateAsync(request with { Sampling = request.Sampling with { Seed = 43 } });
        Assert.Equal(first.Tokens, again.Tokens);
        Assert.NotEqual(first.Tokens, otherSeed.Tokens);
    }

    [Fact]
    public async Task StopToken_EndsTheSequence()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Llama));
        var request = new GenerationRequest { Prompt = TestModels.Tokens(6, 600), Sampling = SamplingParams.Greedy(12) };
        var free = await engine.GenerateAsync(request);
        var stopAt = free.Tokens[3];
        var first = free.Tokens.ToList().IndexOf(stopAt);
        var stopped = await engine.GenerateAsync(request with { Sampling = SamplingParams.Greedy(12, [stopAt]) });
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free.Tokens.Take(first + 1), stopped.Tokens);
    }

    [Fact]
    public async Task BadRequests_GiveClearErrors()
    {
        using var engine = new GenerationEngine(TestModels.Load(ModelFamily.Llama));
        var empty = Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest { Prompt = [] }));
        Assert.Contains("empty", empty.Message);
        var tooLong = Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest { Prompt = new int[9000] }));
        Assert.Contains("context", tooLong.Message);
        var vocab = Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest { Prompt = [1, 999999] }));
        Assert.Contains("vocabulary", vocab.Message);
        var temp = Assert.Throws<ArgumentException>(() => engine.Submit(new GenerationRequest { Prompt = [1], Sampling = new SamplingParams { Temperature = -1 } }));
        Assert.Contains("temperature", temp.Message);
        var missing = await Assert.ThrowsAsync<KeyNotFoundException>(() => engine.GenerateAsync(new GenerationRequest { Prompt = [1], PrefixIds = ["nope"] }));
        Assert.Contains("nope", missing.Message);
        await engine.RegisterPrefixFromTokensAsync("long", TestModels.Tokens(100, 1));
        var overflow = await Assert.ThrowsAsync<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest { Prompt = new int[8150], PrefixIds = ["long"] }));
        Assert.Contains("exceed", overflow.Message);
    }
}
