using Cartridges.Model.Engine;
using Cartridges.Model.Scoring;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
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
        AssertLearns(losses);
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
        AssertLearns(losses);
        Assert.True(losses[^1] < losses[0] - 0.3, $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void GradientAccumulation_OneBatchOf4_EqualsFourMicroBatchesOf1()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var objective = new DistillationObjective(Examples(model, tok, 4));
        using var initial = InitialCartridge(model, tok);
        using var whole = Clone(initial);
        using var split = Clone(initial);
        int[] batch = [0, 1, 2, 3];
        var options = new TrainerOptions { Steps = 1, GlobalBatchSize = 4 };
        using (var t = new Trainer(model, whole, objective, options with { MicroBatchSize = 4 })) t.AccumulateGradients(batch);
        using (var t = new Trainer(model, split, objective, options with { MicroBatchSize = 1 })) t.AccumulateGradients(batch);
        var gWhole = Gradients(whole);
        var gSplit = Gradients(split);

        // The classic accumulation bug, computed by hand: each micro-batch of 1 normalised by its own loss tokens, then
        // averaged over micro-batches. The examples have different loss-token counts, so this weights them wrongly.
        using var broken = Clone(initial);
        foreach (var i in batch)
        {
            using var scope = NewDisposeScope();
            var logits = SequenceScorer.Logits(model, [objective.Tokens(i)], [new PrefixSegment(broken.AsPrefix(), 0)]);
            var (sum, tokens) = objective.Loss(logits, [i]);
            (sum / tokens / batch.Length).backward();
        }
        var gBroken = Gradients(broken);

        var scale = MaxAbs(gWhole);
        var diff = MaxAbs(gWhole.Zip(gSplit, (a, b) => a - b));
        var brokenDiff = MaxAbs(gWhole.Zip(gBroken, (a, b) => a - b));
        // One pass vs four passes only reorders fp32 sums (over tokens, heads, batch rows): relative noise of a few
        // 1e-7 of the largest gradient, so 1e-4 of it leaves ~100× headroom and is still far below a real error.
        var tolerance = 1e-4 * scale;
        output.WriteLine($"max |g| {scale:E2}; max |Δg| split vs whole {diff:E2} (tolerance {tolerance:E2}); per-micro-batch normalisation: {brokenDiff:E2}");
        Assert.True(scale > 0, "no gradient reached the cartridge");
        Assert.True(diff <= tolerance, $"max |Δg| {diff} > {tolerance}");
        // The tolerance must be able to catch the wrong normalisation with a wide margin.
        Assert.True(brokenDiff > 50 * tolerance, $"the wrongly normalised gradient differs by only {brokenDiff} (tolerance {tolerance})");

        // The Adam update from each gradient, as Step() applies it. At step 1 the update is −lr·g/(|g|+ε) per element,
        // whose derivative in g is lr·ε/(|g|+ε)², so a gradient difference Δg moves the parameter by at most
        // lr·|Δg|/(min(|g₁|,|g₂|)+ε): near-zero gradient entries amplify summation noise by up to lr/ε (that is why
        // parameters after the step are not compared with a fixed bound). Plus fp32 rounding of p + update.
        foreach (var (c, g) in new[] { (whole, gWhole), (split, gSplit) })
        {
            foreach (var (p, gi) in c.Parameters.Zip(g)) p.grad!.copy_(gi);
            using var adam = new AdamOptimizer(c.Parameters, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon);
            adam.Update();
        }
        for (var i = 0; i < gWhole.Length; i++)
        {
            using var scope = NewDisposeScope();
            var (a, b) = (gWhole[i], gSplit[i]);
            var bound = options.LearningRate * (a - b).abs() / (minimum(a.abs(), b.abs()) + options.Epsilon)
                        + 4e-7 * (initial.Parameters[i].abs() + options.LearningRate);
            var excess = ((whole.Parameters[i] - split.Parameters[i]).abs() - bound).max().item<float>();
            Assert.True(excess <= 0, $"tensor {i}: parameters after the update differ by {excess} more than the bound");
        }
        foreach (var t in gWhole.Concat(gSplit).Concat(gBroken)) t.Dispose();
    }

    /// <summary>
    /// The loss curve of a full-batch run goes down as a whole. Single steps are not required to fall: Adam at a
    /// constant learning rate can overshoot one step, and an fp32 rounding difference between machines can turn a
    /// near-flat step into a tiny rise. So: at most a quarter of the steps may rise, no rise may undo more than a tenth
    /// of the total drop, and the mean of the last five losses is below that of the first five by at least 0.4 of the
    /// total drop (measured 0.55 and 0.75 of it). A run that does not learn (e.g. learning rate 0: a flat curve) fails the last check.
    /// </summary>
    void AssertLearns(double[] losses)
    {
        output.WriteLine("losses " + string.Join(" ", losses.Select(l => l.ToString("F5"))));
        var drop = losses[0] - losses[^1];
        var rises = losses.Zip(losses.Skip(1)).Where(x => x.Second > x.First).ToArray();
        var (first5, last5) = (losses[..5].Average(), losses[^5..].Average());
        output.WriteLine($"drop {drop:F5}; {rises.Length} rising steps (largest {(rises.Length == 0 ? 0 : rises.Max(x => x.Second - x.First)):F5}); " +
                         $"mean of first 5 {first5:F5}, last 5 {last5:F5}");
        Assert.True(drop > 0, $"loss went from {losses[0]} to {losses[^1]}");
        Assert.True(rises.Length <= (losses.Length - 1) / 4, $"{rises.Length} of {losses.Length - 1} steps raised the loss");
        Assert.All(rises, x => Assert.True(x.Second - x.First <= 0.1 * drop, $"loss rose from {x.First} to {x.Second} (total drop {drop})"));
        Assert.True(first5 - last5 >= 0.4 * drop, $"mean of the first 5 losses {first5}, of the last 5 {last5} (total drop {drop})");
    }

    /// <summary>Copies of the accumulated gradients of the cartridge's trainable tensors.</summary>
    static Tensor[] Gradients(Cartridge c) => c.Parameters.Select(p => p.grad!.clone().DetachFromDisposeScope()).ToArray();

    static float MaxAbs(IEnumerable<Tensor> tensors) => tensors.Max(t => t.abs().max().item<float>());

    [Fact]
    public void LossOnSelectedLogitRows_EqualsTheLossOnFullLogits_InValueAndGradient()
    {
        // Training builds logits only for the rows the loss reads; the LM head is applied row by row, so that must give
        // the loss and the cartridge gradient of the full [B, T, V] logits up to fp32 summation order.
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var objective = new DistillationObjective(Examples(model, tok, 3));
        int[] batch = [0, 1, 2];
        using var viaFull = InitialCartridge(model, tok);
        using var viaRows = Clone(viaFull);
        double Backward(Cartridge cartridge, bool rows)
        {
            using var scope = NewDisposeScope();
            var sequences = batch.Select(objective.Tokens).ToArray();
            PrefixSegment[] prefix = [new PrefixSegment(cartridge.AsPrefix(), 0)];
            var (sum, _) = rows ? objective.Loss(SequenceScorer.Rows(model, sequences, prefix), batch) : objective.Loss(SequenceScorer.Logits(model, sequences, prefix), batch);
            sum.backward();
            return sum.item<float>();
        }
        var full = Backward(viaFull, rows: false);
        var selected = Backward(viaRows, rows: true);
        Assert.True(Math.Abs(full - selected) <= 1e-5 * Math.Abs(full), $"loss {full} vs {selected}");
        var gFull = Gradients(viaFull);
        var gRows = Gradients(viaRows);
        var scale = MaxAbs(gFull);
        Assert.True(scale > 0);
        Assert.True(MaxAbs(gFull.Zip(gRows, (a, b) => a - b)) <= 1e-4 * scale);
    }

    [Fact]
    public async Task RunAsync_RunsEveryMicroBatchAsItsOwnWorkItemOnTheDeviceThread_AndMatchesRun()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var objective = new DistillationObjective(Examples(model, tok, 3));
        var options = new TrainerOptions { Steps = 3, GlobalBatchSize = 2, MicroBatchSize = 1, Seed = 7 };
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
        // Per step: one item draws the batch, one per micro-batch (two) runs its passes, one updates; serving on the same
        // device interleaves between any of them. Then one item finds nothing left to do.
        Assert.Equal(3 * 4 + 1, threads.Count);
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
