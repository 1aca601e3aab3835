using Cartridges.Model.Config;
using Cartridges.Model.Engine;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using Cartridges.Training.Pipeline;
using Cartridges.Training.Synthesis;
using Cartridges.Training.Tests.Support;
using Xunit.Abstractions;

namespace Cartridges.Training.Tests.EndToEnd;

/// <summary>Self-study + distillation on the tiny model over two real corpora: the cartridge beats its baselines and is specific.</summary>
public sealed class TrainPipelineTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = TinyModels.TempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    TrainPipelineOptions Options(string name, string corpus, int p) => new()
    {
        ModelName = "tiny-llama",
        Corpus = corpus,
        Tokens = p,
        DataDirectory = Path.Combine(_dir, name + ".data"),
        Output = Path.Combine(_dir, name + ".safetensors"),
        Synthesis = new SynthesisOptions
        {
            Conversations = 64,
            ConversationsPerShard = 16,
            EvalShards = 1,
            Seed = 7,
            SelfStudy = new SelfStudyOptions
            {
                ChunkMinTokens = 256,
                ChunkMaxTokens = 512,
                ConversationsPerChunk = 16,
                MaxQuestionTokens = 24,
                MaxAnswerTokens = 32,
            },
        },
        Trainer = new TrainerOptions { Steps = 30, GlobalBatchSize = 16, MicroBatchSize = 8, LearningRate = 2e-2, Seed = 7, CheckpointDirectory = Path.Combine(_dir, name + ".ckpt"), CheckpointEvery = 20 },
    };

    /// <remarks>
    /// The acceptance target (held-out loss ≥ 25% below the initialisation) is not reachable with random weights:
    /// the tiny model's predictions barely depend on context (in-context loss ≈ no-context loss), so there is little
    /// for a cartridge to learn. This test pins what does hold; the figures go in the issue note.
    /// </remarks>
    [Fact]
    public async Task Pipeline_TrainsACartridgeThatBeatsItsInitialisationAndTruncation()
    {
        using var engine = new GenerationEngine(TinyModels.Load(ModelFamily.Llama));
        var tokenizer = TinyModels.Tokenizer(ModelFamily.Llama);
        var lighthouse = TinyModels.Corpus("lighthouse-chronicle.txt");
        var corpusTokens = tokenizer.Encode(lighthouse).Count;
        Assert.True(corpusTokens >= 4000, $"corpus has {corpusTokens} tokens");
        var p = 256;
        Assert.True(p <= corpusTokens / 8);

        var options = Options("lighthouse", lighthouse, p);
        var report = await TrainPipeline.RunAsync(engine, tokenizer, options);
        output.WriteLine(report.ToJson());
        // "Beats" means by a margin, not by rounding: measured 0.01270 vs 0.01330 for both (4.5% lower); 1% is far above
        // fp32 noise between machines (~1e-6 relative) and well inside what training achieved.
        Assert.True(report.Eval.Cartridge.Loss < 0.99 * report.Eval.Init.Loss, $"cartridge {report.Eval.Cartridge.Loss:F5} vs init {report.Eval.Init.Loss:F5}");
        Assert.True(report.Eval.Cartridge.Loss < 0.99 * report.Eval.Truncation.Loss, $"cartridge {report.Eval.Cartridge.Loss:F5} vs truncation {report.Eval.Truncation.Loss:F5}");
        Assert.NotNull(report.Eval.Icl);
        Assert.Equal(p * engine.Model.Config.KvBytesPerToken(4), report.Memory.CartridgeBytes);
        Assert.True(report.Memory.IclKvBytes > 8 * report.Memory.CartridgeBytes);
        Assert.Equal(options.Trainer.Steps, report.Training.Steps);

        var meta = CartridgeFile.ReadMetadata(options.Output);
        Assert.Equal(p, meta.Tokens);
        Assert.Contains("distillation", meta.Training);
    }
}
