using Cartridges.Model.Engine;
using Cartridges.Training.Distillation;
using Cartridges.Training.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Cartridges.Training.Tests.Distillation.DistillationFixtures;

namespace Cartridges.Training.Tests.Distillation;

/// <summary>The training loop on the tiny model: what gets gradients, that it learns, accumulation, threading.</summary>
public sealed class TrainerTests(ITestOutputHelper output)
{
    [Fact]
    public void Training_ChangesOnlyTrainableTensors()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        using var cartridge = InitialCartridge(model, tok);
        var sinkBefore = cartridge.FrozenTensors.Select(t => t.clone().DetachFromDisposeScope()).ToArray();
        var trainableBefore = cartridge.Parameters.Select(t => t.clone().DetachFromDisposeScope()).ToArray();
        var weightsBefore = model.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
        using var trainer = new Trainer(model, cartridge, new DistillationObjective(Examples(model, tok, 2)),
            new TrainerOptions { Steps = 2, GlobalBatchSize = 2 });
        trainer.Run();

        Assert.All(cartridge.FrozenTensors.Zip(sinkBefore), x => Assert.True(x.First.eq(x.Second).all().item<bool>()));
        Assert.All(cartridge.FrozenTensors, t => Assert.True(t.grad is null && !t.requires_grad));
        Assert.All(cartridge.Parameters.Zip(trainableBefore), x => Assert.False(x.First.eq(x.Second).all().item<bool>()));
        Assert.All(cartridge.Parameters, t => Assert.True(t.requires_grad));
        Assert.All(model.NamedTensors(), kv =>
        {
            Assert.False(kv.Value.requires_grad);
            Assert.True(kv.Value.grad is null);
            Assert.True(kv.Value.eq(weightsBefore[kv.Key]).all().item<bool>());
        });
        foreach (var t in sinkBefore.Concat(trainableBefore).Concat(weightsBefore.Values)) t.Dispose();
    }

    [Fact]
    public void Distillation_LossDecreasesOver20Steps_ToTheTeachersOwnLevel()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var examples = Examples(model, tok, 4);
        // What the teacher itself would score: −Σ p log p over its stored top-k. A random tiny model is nearly uniform
        // over 50k ids, so losses are small in absolute terms; the gap to this level is what training must close.
        var teacherLevel = examples.Sum(e => e.TopKLogProbs.Sum(row => row.Sum(l => -Math.Exp(l) * l))) / examples.Sum(e => e.TopKIds.Length);
        using var cartridge = InitialCartridge(model, tok);
        using var trainer = new Trainer(model, cartridge, new DistillationObjective(examples),
            new TrainerOptions { Steps = 20, GlobalBatchSize = 4, MicroBatchSize = 2 });
        var progress = new Recorder();
        var summary = trainer.Run(progress);

        var losses = progress.Steps.Select(p => p.Loss).ToArray();
        output.WriteLine($"loss {losses[0]:F5} → {losses[^1]:F5} (teacher {teacherLevel:F5}); step {progress.Steps.Skip(1).Average(p => p.StepTime.TotalMilliseconds):F0} ms " +
                         $"for 4 sequences ({progress.Steps[0].LossTokens} loss tokens), {summary.TokensPerSecond:F0} tok/s");
        Assert.Equal(20, summary.OptimizerStep);
        Assert.Equal(Enumerable.Range(1, 20), progress.Steps.Select(p => p.OptimizerStep));
        Assert.All(progress.Steps, p => Assert.True(p.TokensPerSecond > 0 && p.TotalSteps == 20 && double.IsFinite(p.Loss)));
        // Every step sees the same 4 examples (batch = dataset), so losses are directly comparable.
        Assert.All(losses.Zip(losses.Skip(1)), x => Assert.True(x.Second < x.First, $"loss rose from {x.First} to {x.Second}"));
        Assert.True(losses[^1] - teacherLevel < 0.2 * (losses[0] - teacherLevel), $"loss {losses[0]} → {losses[^1]}, teacher {teacherLevel}");
    }

    [Fact]
    public void NextTokenObjective_TrainsOnCorpusChunks()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        using var cartridge = InitialCartridge(model, tok);
        var objective = NextTokenObjective.FromCorpus(tok.Encode(Context), 12);
        Assert.All(Enumerable.Range(0, objective.Count - 1), i => Assert.Equal(12, objective.Tokens(i).Count));
        using var trainer = new Trainer(model, cartridge, objective, new TrainerOptions { Steps = 10, GlobalBatchSize = objective.Count });
        var progress = new Recorder();
        trainer.Run(progress);
        var losses = progress.Steps.Select(p => p.Loss).ToArray();
        // Near ln(50k) ≈ 10.8 at the start (random model); measured 10.78 → 10.33 in 10 steps.
        Assert.All(losses.Zip(losses.Skip(1)), x => Assert.True(x.Second < x.First, $"loss rose from {x.First} to {x.Second}"));
        Assert.True(losses[^1] < losses[0] - 0.3, $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void GradientAccumulation_OneBatchOf4_EqualsFourMicroBatchesOf1()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var objective = new DistillationObjective(Examples(model, tok, 4));
        using var whole = InitialCartridge(model, tok);
        using var split = Clone(whole);
        using (var t = new Trainer(model, whole, objective, new TrainerOptions { Steps = 1, GlobalBatchSize = 4, MicroBatchSize = 4 })) t.Run();
        using (var t = new Trainer(model, split, objective, new TrainerOptions { Steps = 1, GlobalBatchSize = 4, MicroBatchSize = 1 })) t.Run();
        var diff = MaxDifference(whole, split);
        output.WriteLine($"max |Δ| after one step: {diff:E2}");
        Assert.True(diff <= 1e-6, $"max difference {diff}");
    }

    [Fact]
    public async Task RunAsync_RunsEveryStepOnTheDeviceThread_AndMatchesRun()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var objective = new DistillationObjective(Examples(model, tok, 3));
        var options = new TrainerOptions { Steps = 3, GlobalBatchSize = 2, Seed = 7 };
        using var viaRun = InitialCartridge(model, tok);
        using var viaWorker = Clone(viaRun);
        using (var t = new Trainer(model, viaRun, objective, options)) t.Run();

        var worker = DeviceWorker.For(CPU);
        var threads = new List<int>();
        using var trainer = new Trainer(model, viaWorker, objective, options);
        var progress = new Recorder();
        var summary = await trainer.RunAsync(work => worker.InvokeAsync(() =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            return work();
        }), progress);

        Assert.Equal(3, summary.OptimizerStep);
        Assert.Equal(3, progress.Steps.Count);
        Assert.Equal(4, threads.Count); // one work item per step, and one that finds nothing left to do
        Assert.Single(threads.Distinct());
        Assert.True(await worker.InvokeAsync(() => threads[0] == Environment.CurrentManagedThreadId));
        Assert.True(SameValues(viaRun, viaWorker));
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Step());
        Assert.Contains("one thread", e.Message);
    }

    [Fact]
    public void BadInput_IsRejectedClearly()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        using var cartridge = InitialCartridge(model, tok);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new DistillationObjective([])).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new NextTokenObjective([])).Message);
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => NextTokenObjective.FromCorpus([5], 8)).Message);
        Assert.Contains("no loss tokens", Assert.Throws<ArgumentException>(() =>
            new DistillationObjective([new([1, 2, 3], [false, false, false], [], [])])).Message);
        Assert.Contains("top-k rows", Assert.Throws<InvalidDataException>(() =>
            new DistillationObjective([new([1, 2, 3], [false, true, true], [[1]], [[0f]])])).Message);

        // 8,180 tokens fit the 8,192-token context alone, but not behind a 16-token cartridge.
        var tooLong = new int[8180];
        var mask = tooLong.Select((_, i) => i == 1).ToArray();
        var longObjective = new DistillationObjective([new(tooLong, mask, [[0]], [[0f]])]);
        var e = Assert.Throws<ArgumentException>(() => new Trainer(model, cartridge, longObjective, new TrainerOptions()));
        Assert.Contains("needs 8196 positions, but the model's context is 8192", e.Message);

        var outside = new DistillationObjective([new([1, 2], [false, true], [[model.Config.VocabSize]], [[0f]])]);
        Assert.Contains("outside the model's vocabulary", Assert.Throws<ArgumentException>(() => new Trainer(model, cartridge, outside, new TrainerOptions())).Message);

        var fine = new DistillationObjective([new([1, 2], [false, true], [[3]], [[0f]])]);
        Assert.Contains("GlobalBatchSize must be positive", Assert.Throws<ArgumentException>(() =>
            new Trainer(model, cartridge, fine, new TrainerOptions { GlobalBatchSize = 0 })).Message);
        Assert.Contains("needs a CheckpointDirectory", Assert.Throws<ArgumentException>(() =>
            new Trainer(model, cartridge, fine, new TrainerOptions { Resume = true })).Message);
    }
}
