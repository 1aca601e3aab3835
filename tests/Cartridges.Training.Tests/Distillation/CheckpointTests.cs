using Cartridges.Model.Presets;
using Cartridges.Model.Transformer;
using Cartridges.Training.Distillation;
using Cartridges.Training.Tests.Support;
using static TorchSharp.torch;
using static Cartridges.Training.Tests.Distillation.DistillationFixtures;

namespace Cartridges.Training.Tests.Distillation;

/// <summary>Checkpoints: bit-identical resume, atomic writes, refusal of another model, dataset or settings.</summary>
public sealed class CheckpointTests
{
    [Fact]
    public void InterruptedAtStep5_ThenResumed_GivesTheSameCartridgeAsAnUninterrupted10StepRun()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        // 6 examples, 4 per step: epochs end mid-batch, so the resumed run must also replay the shuffles exactly.
        var objective = new DistillationObjective(Examples(model, tok, 6));
        using var initial = InitialCartridge(model, tok);
        var root = TinyModels.TempDir();
        try
        {
            TrainerOptions Options(string dir, bool resume = false) => new()
            {
                Steps = 10,
                GlobalBatchSize = 4,
                MicroBatchSize = 2,
                Seed = 3,
                CheckpointDirectory = dir,
                CheckpointEvery = 5,
                Resume = resume,
            };
            using var straight = Clone(initial);
            using (var t = new Trainer(model, straight, objective, Options(Path.Combine(root, "straight")))) t.Run();

            var dir = Path.Combine(root, "interrupted");
            using var cts = new CancellationTokenSource();
            using (var first = Clone(initial))
            using (var t = new Trainer(model, first, objective, Options(dir)))
            {
                Assert.Throws<OperationCanceledException>(() => t.Run(new Recorder(p =>
                {
                    if (p.OptimizerStep == 5) cts.Cancel();
                }), cts.Token));
                Assert.Equal(5, t.OptimizerStep);
            }
            Assert.EndsWith("step-00000005", TrainingCheckpoint.Latest(dir));

            // A fresh cartridge at the initial values: everything after step 5 must come from the checkpoint.
            using var resumed = Clone(initial);
            using (var t = new Trainer(model, resumed, objective, Options(dir, resume: true)))
            {
                var summary = t.Run();
                Assert.Equal(5, summary.ResumedFromStep);
                Assert.Equal(10, summary.OptimizerStep);
            }
            Assert.True(SameValues(straight, resumed));
            foreach (var file in new[] { "cartridge.safetensors", "optimizer.safetensors", "state.json" })
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(root, "straight", "step-00000010", file)),
                    File.ReadAllBytes(Path.Combine(dir, "step-00000010", file)));
            }
            // Only complete checkpoints, the newest two, no temporary directories.
            Assert.Equal(["step-00000005", "step-00000010"], Directory.GetDirectories(dir).Select(d => Path.GetFileName(d)!).Order().ToArray());
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void Resume_RefusesAnotherModel_AnotherDataset_AndOtherSettings()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var examples = Examples(model, tok, 3);
        var root = TinyModels.TempDir();
        try
        {
            var options = new TrainerOptions { Steps = 1, GlobalBatchSize = 2, CheckpointDirectory = root };
            using (var c = InitialCartridge(model, tok))
            using (var t = new Trainer(model, c, new DistillationObjective(examples), options)) t.Run();
            var resume = options with { Steps = 2, Resume = true };

            string Refusal(TransformerModel m, TrainingObjective objective, TrainerOptions o)
            {
                using var c = InitialCartridge(m, tok);
                using var t = new Trainer(m, c, objective, o);
                var message = Assert.Throws<InvalidDataException>(() => t.Run()).Message;
                Assert.Equal(message, Assert.Throws<InvalidDataException>(() => t.Run()).Message); // a retry does not start from scratch
                return message;
            }
            // Same architecture, other weights.
            var weights = RandomModelWriter.RandomWeights(model.Config, 99);
            using (var other = TransformerModel.FromTensors(model.Config, weights, CPU, ScalarType.Float32))
                Assert.Contains("belongs to another model", Refusal(other, new DistillationObjective(examples), resume));
            foreach (var w in weights.Values) w.Dispose();
            Assert.Contains("belongs to another dataset", Refusal(model, new DistillationObjective(examples[..2]), resume));
            Assert.Contains("belongs to another dataset", Refusal(model, NextTokenObjective.FromCorpus(examples[0].Tokens, 4), resume));
            var settings = Refusal(model, new DistillationObjective(examples), resume with { Seed = 5, LearningRate = 1e-2 });
            Assert.Contains("learning rate 0.02 (now 0.01)", settings);
            Assert.Contains("seed 0 (now 5)", settings);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void Latest_IgnoresHalfWrittenCheckpoints()
    {
        var root = TinyModels.TempDir();
        try
        {
            Assert.Null(TrainingCheckpoint.Latest(Path.Combine(root, "missing")));
            Directory.CreateDirectory(Path.Combine(root, "step-00000003"));
            File.WriteAllText(Path.Combine(root, "step-00000003", "state.json"), "{}");
            Directory.CreateDirectory(Path.Combine(root, "step-00000009.tmp-1a2b3c4d")); // interrupted while writing
            File.WriteAllText(Path.Combine(root, "step-00000009.tmp-1a2b3c4d", "state.json"), "{}");
            Directory.CreateDirectory(Path.Combine(root, "step-00000007")); // no state: incomplete
            Assert.Equal(Path.Combine(root, "step-00000003"), TrainingCheckpoint.Latest(root));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
