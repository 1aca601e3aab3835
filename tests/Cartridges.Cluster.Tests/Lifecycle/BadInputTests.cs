using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;

namespace Cartridges.Cluster.Tests.Lifecycle;

/// <summary>One single-silo cluster shared by the bad-input tests.</summary>
public sealed class SingleSiloCluster : IAsyncLifetime
{
    /// <summary>The running harness.</summary>
    public ClusterHarness Harness { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Harness = await ClusterHarness.StartAsync(silos: 1);

    /// <inheritdoc />
    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>Bad requests get clear errors and leave stored state intact.</summary>
public sealed class BadInputTests(SingleSiloCluster cluster) : IClassFixture<SingleSiloCluster>
{
    IClusterClient Client => cluster.Harness.Client;
    static readonly string Corpus = ClusterHarness.Corpus("lighthouse-chronicle.txt")[..3000];

    static async Task<CartridgeException> Refused(string code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<CartridgeException>(call);
        Assert.Equal(code, e.Code);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        return e;
    }

    [Fact]
    public async Task UnknownCartridge_IsNotFound_AndStaysUncreated()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/nothing-here");
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
        var e = await Refused(CartridgeException.NotFound, () => grain.AskAsync("Hello?"));
        Assert.Contains("acme/nothing-here", e.Message);
        await Refused(CartridgeException.NotFound, () => grain.StartAsync());
        await Refused(CartridgeException.NotFound, () => grain.DeleteAsync());
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
    }

    [Fact]
    public async Task MalformedKeys_AreRefused()
    {
        foreach (var key in new[] { "no-slash", "../etc/passwd", "acme/../x", "ACME/upper", "acme/" })
            await Assert.ThrowsAnyAsync<Exception>(() => Client.GetGrain<ICartridgeGrain>(key).GetStatusAsync());
        Assert.Throws<ArgumentException>(() => CartridgeKey.Of("acme", "a/b"));
    }

    [Fact]
    public async Task BadSpecs_AreInvalidRequests()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/bad-spec");
        var good = ClusterHarness.TinySpec(Corpus);
        await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(good with { Corpus = "  " }));
        await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(good with { SizeTokens = 0 }));
        var e = await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(good with { BaseModel = "no-such-model" }));
        Assert.Contains("no-such-model", e.Message);
        await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(good with { Training = good.Training with { Steps = 0 } }));
        await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(good with { Synthesis = good.Synthesis with { Conversations = 1 } }));
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
    }

    [Fact]
    public async Task OverLimitBudgets_AndImpossibleSizes_AreRefusedAtCreate_NamingTheField()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/over-limit");
        var good = ClusterHarness.TinySpec(Corpus);
        var huge = 2_000_000_000;
        foreach (var (field, spec) in new (string, CartridgeSpec)[]
        {
            ("training.steps", good with { Training = good.Training with { Steps = huge } }),
            ("training.batch_size", good with { Training = good.Training with { BatchSize = huge } }),
            ("synthesis.conversations", good with { Synthesis = good.Synthesis with { Conversations = huge } }),
            ("synthesis.max_question_tokens", good with { Synthesis = good.Synthesis with { MaxQuestionTokens = huge } }),
            ("synthesis.max_answer_tokens", good with { Synthesis = good.Synthesis with { MaxAnswerTokens = huge } }),
            ("synthesis.conversations_per_chunk", good with { Synthesis = good.Synthesis with { ConversationsPerChunk = huge } }),
            ("size_tokens", good with { SizeTokens = huge }),
        })
        {
            var e = await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(spec));
            Assert.Contains(field, e.Message);
        }
        // More cartridge tokens than the corpus has, or than the tiny model's context leaves for a question.
        var e2 = await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(good with { Corpus = "Only a few words here.", SizeTokens = 64 }));
        Assert.Contains("more than the corpus", e2.Message);
        var e3 = await Refused(CartridgeException.InvalidRequest, () => grain.CreateAsync(good with { Corpus = string.Concat(Enumerable.Repeat(Corpus, 16)), SizeTokens = 8190 }));
        Assert.Contains("context", e3.Message);
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
    }

    [Theory]
    [InlineData(96, 64, 48)]
    [InlineData(2, 64, 1)]
    [InlineData(1024, 64, 64)]
    [InlineData(100, 64, 50)]
    [InlineData(96, 128, 48)]
    public void ShardSizes_ForConversations_GiveAtLeastTwoShards(int conversations, int target, int expected)
    {
        var size = SynthesisBudget.ShardSizeFor(conversations, target);
        Assert.Equal(expected, size);
        Assert.True((conversations + size - 1) / size >= 2);
        Assert.Null(new SynthesisBudget { Conversations = conversations, ConversationsPerShard = size }.Problem());
    }

    [Fact]
    public async Task CreateTwice_SameSpecIsIdempotent_DifferentSpecConflicts()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/twice");
        var spec = ClusterHarness.TinySpec(Corpus);
        var first = await grain.CreateAsync(spec);
        var again = await grain.CreateAsync(spec);
        Assert.Equal(first.CreatedAt, again.CreatedAt);
        await Refused(CartridgeException.Conflict, () => grain.CreateAsync(spec with { SizeTokens = 32 }));
        await Refused(CartridgeException.Conflict, () => grain.CreateAsync(spec with { Corpus = Corpus + " more" }));
        var after = await grain.GetStatusAsync();
        Assert.Equal(CartridgeState.Untrained, after.State);
        Assert.Equal(16, after.SizeTokens);
    }

    [Fact]
    public async Task AskBeforeServing_FailsAtOnce_OrAfterTheChosenWait()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/not-yet");
        await grain.CreateAsync(ClusterHarness.TinySpec(Corpus));
        var e = await Refused(CartridgeException.NotReady, () => grain.AskAsync("What is this?"));
        Assert.Contains("Untrained", e.Message);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Refused(CartridgeException.NotReady, () => grain.AskAsync("What is this?", new AskOptions { WaitForServing = TimeSpan.FromSeconds(1) }));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"waited only {clock.Elapsed}");
    }

    [Fact]
    public async Task EmptyAndOverlongQuestions_AreRefused_StateIntact()
    {
        var grain = Client.GetGrain<ICartridgeGrain>("acme/guarded");
        await grain.CreateAsync(ClusterHarness.TinySpec(Corpus, steps: 8));
        await grain.StartAsync();
        // (Delete while generating or training stops the work first: StopTests.)
        // Waiting for Serving within the caller's budget works.
        var answer = await grain.AskAsync("Who is the keeper?", new AskOptions { MaxTokens = 4, WaitForServing = TimeSpan.FromMinutes(4) });
        Assert.Equal(4, answer.CompletionTokens);
        var serving = await grain.GetStatusAsync();
        Assert.Equal(CartridgeState.Serving, serving.State);

        await Refused(CartridgeException.InvalidRequest, () => grain.AskAsync(""));
        await Refused(CartridgeException.InvalidRequest, () => grain.AskAsync("   \n"));
        await Refused(CartridgeException.InvalidRequest, () => grain.AskAsync("Why?", new AskOptions { MaxTokens = 0 }));
        var longQuestion = string.Join(' ', Enumerable.Repeat("lighthouse keeper storm", 3000));
        var tooLong = await Refused(CartridgeException.InvalidRequest, () => grain.AskAsync(longQuestion));
        Assert.Contains("too long", tooLong.Message);
        await Refused(CartridgeException.NotFound, () => grain.AskAsync("Why?", new AskOptions { ComposeWith = ["acme/missing"] }));

        var after = await grain.GetStatusAsync();
        Assert.Equal(serving.CartridgeBlob, after.CartridgeBlob);
        Assert.Equal(CartridgeState.Serving, after.State);
        Assert.Equal(answer.TokenIds, (await grain.AskAsync("Who is the keeper?", new AskOptions { MaxTokens = 4 })).TokenIds);

        // Once Serving it can be deleted; then it is gone.
        await grain.DeleteAsync();
        Assert.Equal(CartridgeState.None, (await grain.GetStatusAsync()).State);
        await Refused(CartridgeException.NotFound, () => grain.AskAsync("Who is the keeper?"));
    }
}
