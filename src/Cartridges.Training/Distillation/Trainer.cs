// The cartridge training loop (method §4, issue deliverable 3): for each optimizer step, take the next global batch
// from the seeded data order, split it into length-bucketed micro-batches, run the frozen model with the cartridge
// as its prefix, accumulate gradients of (loss sum / loss tokens of the global batch) into the cartridge's
// trainable tensors only, then one Adam update. Checkpoints every N steps; resume replays bit-identically.
// All tensor work runs on the thread of the first step (the device thread): TorchSharp scopes are per-thread.
using System.Diagnostics;
using Cartridges.Model.Engine;
using Cartridges.Model.Scoring;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Trains a cartridge on a training objective with Adam, gradient accumulation and bit-exact checkpoints.</summary>
public sealed class Trainer : IDisposable
{
    readonly TransformerModel _model;
    readonly Cartridge _cartridge;
    readonly TrainingObjective _objective;
    readonly TrainerOptions _options;
    AdamOptimizer? _adam;
    DataOrder? _order;
    string _modelFingerprint = "";
    int _deviceThread = -1;
    double _lastLoss = double.NaN;
    long _tokensThisRun;
    TimeSpan _stepTimeThisRun;
    readonly Stopwatch _elapsed = new();

    /// <summary>Checks the data against the model and cartridge (vocabulary, context length); allocates nothing on the device.</summary>
    public Trainer(TransformerModel model, Cartridge cartridge, TrainingObjective objective, TrainerOptions options)
    {
        options.Validate();
        cartridge.CheckCompatible(model.Config);
        if (objective.MaxTokenId >= model.Config.VocabSize)
            throw new ArgumentException($"The dataset uses token id {objective.MaxTokenId}, outside the model's vocabulary of {model.Config.VocabSize}.");
        var context = model.Config.MaxPositionEmbeddings;
        for (var i = 0; i < objective.Count; i++)
        {
            var length = objective.Tokens(i).Count;
            if (cartridge.Length + length > context)
                throw new ArgumentException(
                    $"Training sequence {i} has {length} tokens; after the {cartridge.Length}-token cartridge it needs {cartridge.Length + length} positions, but the model's context is {context}.");
        }
        (_model, _cartridge, _objective, _options) = (model, cartridge, objective, options);
    }

    /// <summary>Optimizer steps done so far (including those restored from a checkpoint).</summary>
    public int OptimizerStep { get; private set; }

    /// <summary>Step of the checkpoint this run resumed from (0 if it started fresh).</summary>
    public int ResumedFromStep { get; private set; }

    /// <summary>Runs the remaining optimizer steps on the calling thread, reporting after each.</summary>
    public TrainingSummary Run(IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        Start();
        while (OptimizerStep < _options.Steps)
        {
            ct.ThrowIfCancellationRequested();
            var done = Step(); // not inside `progress?.Report(...)`: that would skip the step when progress is null
            progress?.Report(done);
        }
        return Summary();
    }

    /// <summary>
    /// Runs the remaining optimizer steps through `invoke` (which must always run work on the same thread, e.g. the
    /// device worker), one work item per micro-batch plus one for the update, so other work such as serving interleaves
    /// within a step: a question waits for at most one micro-batch's forward and backward pass, not a whole step.
    /// </summary>
    public async Task<TrainingSummary> RunAsync(Func<Func<TrainingProgress?>, Task<TrainingProgress?>> invoke,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            PendingStep? step = null;
            await invoke(() =>
            {
                Start();
                step = OptimizerStep < _options.Steps ? BeginStep() : null;
                return null;
            }).ConfigureAwait(false);
            if (step is null) return Summary();
            // A started step is finished even if cancellation comes meanwhile: half-accumulated gradients are never left behind.
            while (!step.Done) await invoke(() => ContinueStep(step)).ConfigureAwait(false);
            var done = await invoke(() => FinishStep(step)).ConfigureAwait(false);
            progress?.Report(done!);
        }
    }

    /// <summary>Runs the remaining optimizer steps on the engine's device thread, one step per work item.</summary>
    public Task<TrainingSummary> RunAsync(GenerationEngine engine, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default) =>
        RunAsync(work => engine.RunAsync(_ => work()), progress, ct);

    /// <summary>Runs the remaining optimizer steps on a device worker thread, one step per work item.</summary>
    public Task<TrainingSummary> RunAsync(DeviceWorker worker, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default) =>
        RunAsync(worker.InvokeAsync, progress, ct);

    /// <summary>One optimizer step on the calling thread (which must be the thread of every other step).</summary>
    public TrainingProgress Step()
    {
        Start();
        var step = BeginStep();
        while (!step.Done) ContinueStep(step);
        return FinishStep(step);
    }

    /// <summary>An optimizer step under way: its batch cut into micro-batches, and what the passes so far gave.</summary>
    sealed class PendingStep(IReadOnlyList<IReadOnlyList<int>> microBatches, int lossTokens, int inputTokens)
    {
        public IReadOnlyList<IReadOnlyList<int>> MicroBatches { get; } = microBatches;
        public int LossTokens { get; } = lossTokens;
        public int InputTokens { get; } = inputTokens;
        public int Next { get; set; }
        public double LossSum { get; set; }
        public TimeSpan Time { get; set; }
        public bool Done => Next == MicroBatches.Count;
    }

    PendingStep BeginStep()
    {
        if (OptimizerStep >= _options.Steps) throw new InvalidOperationException($"All {_options.Steps} optimizer steps are done.");
        return Plan(_order!.Next(_options.GlobalBatchSize));
    }

    // The batch cut into micro-batches as the options say, with its loss and input token counts.
    PendingStep Plan(IReadOnlyList<int> batch) =>
        new([.. MicroBatchPlanner.Plan(batch, i => _objective.Tokens(i).Count, _options.MicroBatchSize, _options.MicroBatchTokens)],
            batch.Sum(_objective.LossTokens), batch.Sum(i => _objective.Tokens(i).Count));

    TrainingProgress? ContinueStep(PendingStep step)
    {
        var started = Stopwatch.GetTimestamp();
        step.LossSum += MicroBatchBackward(step.MicroBatches[step.Next++], step.LossTokens);
        step.Time += Stopwatch.GetElapsedTime(started);
        return null;
    }

    TrainingProgress FinishStep(PendingStep step)
    {
        var started = Stopwatch.GetTimestamp();
        _adam!.Update();
        OptimizerStep++;
        _lastLoss = step.LossTokens == 0 ? double.NaN : step.LossSum / step.LossTokens;
        string? checkpoint = null;
        if (_options.CheckpointDirectory is { } dir && (OptimizerStep == _options.Steps || (_options.CheckpointEvery > 0 && OptimizerStep % _options.CheckpointEvery == 0)))
            checkpoint = TrainingCheckpoint.Save(dir, _options.KeepCheckpoints, State(), _cartridge, Metadata(), _adam);
        // Device time of this step's own work items only (serving that ran between them is not training time).
        var stepTime = step.Time + Stopwatch.GetElapsedTime(started);
        _tokensThisRun += step.InputTokens;
        _stepTimeThisRun += stepTime;
        return new TrainingProgress(OptimizerStep, _options.Steps, _lastLoss, step.LossTokens, step.InputTokens / stepTime.TotalSeconds,
            stepTime, _elapsed.Elapsed, _order!.Cursor.Epoch, checkpoint);
    }

    /// <summary>
    /// Forward and backward passes over one global batch, split into micro-batches as the options say; adds the
    /// gradient of (loss sum / loss tokens of the whole batch) to the cartridge's trainable tensors' .grad (no update).
    /// </summary>
    internal (double LossSum, int LossTokens, int InputTokens) AccumulateGradients(IReadOnlyList<int> batch)
    {
        var step = Plan(batch);
        while (!step.Done) ContinueStep(step);
        return (step.LossSum, step.LossTokens, step.InputTokens);
    }

    // The mean is over loss tokens of the whole global batch, so each micro-batch contributes sum / total: the
    // accumulated gradient equals that of one pass over the global batch, however it is split. Returns the loss sum.
    double MicroBatchBackward(IReadOnlyList<int> microBatch, int lossTokens)
    {
        using var scope = NewDisposeScope();
        var prefix = _cartridge.AsPrefix(); // differentiable view, rebuilt per pass (its tensors die with the scope)
        var logits = SequenceScorer.Rows(_model, microBatch.Select(_objective.Tokens).ToArray(), [new PrefixSegment(prefix, 0)]);
        var (sum, _) = _objective.Loss(logits, microBatch);
        if (sum.requires_grad) (sum / lossTokens).backward();
        return sum.item<float>();
    }

    /// <summary>Cartridge metadata describing this run (model, steps, objective, last loss), for saving the result.</summary>
    public CartridgeMetadata Metadata() => CartridgeMetadata.For(_options.ModelName, _model.Config, _cartridge, training: new
    {
        objective = _objective.Name,
        optimizer_step = OptimizerStep,
        loss = double.IsNaN(_lastLoss) ? (double?)null : _lastLoss,
        dataset = _objective.Fingerprint,
        sequences = _objective.Count,
        learning_rate = _options.LearningRate,
        global_batch = _options.GlobalBatchSize,
        seed = _options.Seed,
    });

    // First call, on the device thread: optimizer state, model identity, and the resume if asked for.
    void Start()
    {
        if (_deviceThread == Environment.CurrentManagedThreadId) return;
        if (_deviceThread != -1)
            throw new InvalidOperationException("Trainer steps must all run on one thread (the device thread); TorchSharp scopes and autograd state are per-thread.");
        _adam = new AdamOptimizer(_cartridge.Parameters, _options.LearningRate, _options.Beta1, _options.Beta2, _options.Epsilon);
        try
        {
            _modelFingerprint = ModelFingerprint.Of(_model);
            _order = new DataOrder(_objective.Count, _options.Seed);
            if (_options.Resume && TrainingCheckpoint.Latest(_options.CheckpointDirectory!) is { } latest)
            {
                var saved = TrainingCheckpoint.Restore(latest, State(), _cartridge, _adam, _model);
                _order = new DataOrder(_objective.Count, saved.Cursor);
                OptimizerStep = ResumedFromStep = saved.OptimizerStep;
                _lastLoss = saved.Loss;
            }
        }
        catch
        {
            // A refused or unreadable checkpoint leaves the trainer unstarted, so a retry cannot silently train from scratch.
            _adam.Dispose();
            _adam = null;
            throw;
        }
        _deviceThread = Environment.CurrentManagedThreadId;
        _elapsed.Start();
    }

    CheckpointState State()
    {
        var cursor = _order!.Cursor;
        return new CheckpointState
        {
            OptimizerStep = OptimizerStep,
            Objective = _objective.Name,
            ModelFingerprint = _modelFingerprint,
            DatasetFingerprint = _objective.Fingerprint,
            DatasetCount = _objective.Count,
            CartridgeTokens = _cartridge.Length,
            CartridgeFrozen = _cartridge.Frozen,
            GlobalBatchSize = _options.GlobalBatchSize,
            MicroBatchSize = _options.MicroBatchSize,
            MicroBatchTokens = _options.MicroBatchTokens,
            LearningRate = _options.LearningRate,
            Beta1 = _options.Beta1,
            Beta2 = _options.Beta2,
            Epsilon = _options.Epsilon,
            Epoch = cursor.Epoch,
            Position = cursor.Position,
            ShuffleSeed = cursor.ShuffleSeed,
            EpochRngState = cursor.EpochRngState,
            Loss = _lastLoss,
        };
    }

    TrainingSummary Summary() => new(OptimizerStep, ResumedFromStep, _lastLoss,
        _stepTimeThisRun > TimeSpan.Zero ? _tokensThisRun / _stepTimeThisRun.TotalSeconds : 0, _stepTimeThisRun);

    /// <summary>Frees the optimizer state (the cartridge belongs to the caller).</summary>
    public void Dispose() => _adam?.Dispose();
}
