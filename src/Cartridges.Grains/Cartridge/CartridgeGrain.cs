// One cartridge: Untrained → Generating → Training → Serving (or Failed). Long work runs as a background task on
// the grain's scheduler (start returns at once; status reads interleave). Everything needed to continue is durable
// after each unit of work (a shard, a checkpoint); a reminder re-activates the grain after a crash and an
// activation that finds `Running` set resumes where the durable state says.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Cartridges.Abstractions;
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Cartridges.Grains.Placement;
using Cartridges.Model.Chat;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Storage;
using Cartridges.Storage.Blobs;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Cartridges.Grains.Cartridge;

/// <summary>The cartridge grain (key tenant/name).</summary>
[AcceleratorOnly, MostFreeMemoryPlacement]
public sealed partial class CartridgeGrain(
    [PersistentState("cartridge", StorageNames.Cartridges)] IPersistentState<CartridgeRecord> record,
    SiloEngineHost host,
    IBlobStore blobs,
    AcceleratorLoadMonitor load,
    CartridgeMetrics metrics,
    CartridgeIntegrity integrity,
    ServerPaths paths,
    ILocalSiloDetails silo,
    ILogger<CartridgeGrain> log) : Grain, ICartridgeGrain, IRemindable, ICartridgeStateView
{
    const string ResumeReminder = "resume";
    readonly SemaphoreSlim _writeLock = new(1, 1);
    Task? _run;
    CancellationTokenSource? _runStop;
    bool _stopping;
    volatile TrainingProgress? _live;
    readonly RecentRate _answers = new(TimeSpan.FromMinutes(1));

    Task<CartridgeRecord> ICartridgeStateView.GetState() => Task.FromResult(record.State);
    string? _detail;
    readonly Stopwatch _phaseClock = new();

    CartridgeRecord R => record.State;

    // The token of the running work: cancelled when the silo stops or when StopAsync asks.
    CancellationToken Work => _runStop?.Token ?? host.Stopping;
    string Key => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        CartridgeKey.Parse(Key); // refuse malformed keys before anything is stored under them
        metrics.Track(Key, R.State);
        if (R.Running && R.State is CartridgeState.Generating or CartridgeState.Training)
        {
            log.LogInformation("Cartridge {Key} resumes {State} on {Silo}", Key, R.State, silo.SiloAddress);
            StartRun();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.Track(Key, CartridgeState.None);
        // An idle cartridge gives its tensors back (unless another grain holds the same ones); the next question loads them.
        await host.ReleaseHolderAsync(Key);
    }

    /// <inheritdoc />
    public async Task<CartridgeStatus> CreateAsync(CartridgeSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Problem() is { } problem) throw new CartridgeException(CartridgeException.InvalidRequest, problem);
        if (host.Options.Limits.Problem(spec) is { } over) throw new CartridgeException(CartridgeException.InvalidRequest, over.Message);
        LoadedModel model;
        try
        {
            model = await host.GetAsync(spec.BaseModel); // resolves the name; an unknown model is an ArgumentException
        }
        catch (ArgumentException e)
        {
            throw new CartridgeException(CartridgeException.InvalidRequest, e.Message);
        }
        if (SizeProblem(spec, model) is { } size) throw new CartridgeException(CartridgeException.InvalidRequest, size);
        var bytes = Encoding.UTF8.GetBytes(spec.Corpus);
        var corpusHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var stored = spec with { Corpus = "" };
        if (R.State != CartridgeState.None)
        {
            if (R.Spec == stored && R.CorpusBlob == corpusHash) return Status();
            throw new CartridgeException(CartridgeException.Conflict,
                $"Cartridge '{Key}' already exists with a different spec; delete it first or use another name.");
        }
        // Corpus first, state second: a crash in between leaves an unreferenced blob, never a state naming a missing blob.
        using (var stream = new MemoryStream(bytes, writable: false)) await blobs.PutAsync(stream);
        await WriteAsync(r =>
        {
            r.State = CartridgeState.Untrained;
            r.Spec = stored;
            r.CorpusBlob = corpusHash;
            r.CreatedAt = DateTimeOffset.UtcNow;
        });
        return Status();
    }

    // The cartridge is initialised from the corpus's first p tokens and must leave room for a question in the
    // model's context: both are known now, so a size that can only fail after synthesis is refused here.
    static string? SizeProblem(CartridgeSpec spec, LoadedModel model)
    {
        var context = model.Engine.Model.Config.MaxPositionEmbeddings;
        var corpusTokens = model.Tokenizer.Encode(spec.Corpus).Count;
        if (spec.SizeTokens > corpusTokens)
            return $"size_tokens is {spec.SizeTokens}, more than the corpus's {corpusTokens} tokens; a cartridge starts from the corpus's first p tokens, so use at most {corpusTokens}.";
        if (spec.SizeTokens + 64 > context)
            return $"size_tokens is {spec.SizeTokens}; with a question it would not fit base model '{spec.BaseModel}''s context of {context} tokens (use at most {context - 64}).";
        return null;
    }

    /// <inheritdoc />
    public async Task<CartridgeStatus> ImportAsync(CartridgeSpec spec, byte[] cartridgeFile)
    {
        ArgumentNullException.ThrowIfNull(cartridgeFile);
        if (R.State != CartridgeState.None)
            throw new CartridgeException(CartridgeException.Conflict, $"Cartridge '{Key}' already exists; delete it first or use another name.");
        if (spec.Problem() is { } problem) throw new CartridgeException(CartridgeException.InvalidRequest, problem);
        LoadedModel model;
        try
        {
            model = await host.GetAsync(spec.BaseModel);
        }
        catch (ArgumentException e)
        {
            throw new CartridgeException(CartridgeException.InvalidRequest, e.Message);
        }
        // Check the file against the model before anything is stored: wrong model, wrong shapes, not a cartridge.
        var temp = Path.Combine(host.WorkDirectory(silo.SiloAddress.ToParsableString(), "imports"), Guid.NewGuid().ToString("N") + ".safetensors");
        int length;
        try
        {
            await File.WriteAllBytesAsync(temp, cartridgeFile);
            length = await model.Engine.RunAsync(m =>
            {
                var (cartridge, _) = CartridgeFile.Load(temp, m.Config, m.DType, m.Device);
                using (cartridge) return cartridge.Length;
            });
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException or IOException or Cartridges.Model.Config.ModelLoadException)
        {
            throw new CartridgeException(CartridgeException.InvalidRequest, $"The cartridge file does not fit base model '{spec.BaseModel}': {e.Message}");
        }
        finally
        {
            File.Delete(temp);
        }
        var corpus = Encoding.UTF8.GetBytes(spec.Corpus);
        BlobRef corpusBlob, tensors;
        using (var stream = new MemoryStream(corpus, writable: false)) corpusBlob = await blobs.PutAsync(stream);
        using (var stream = new MemoryStream(cartridgeFile, writable: false)) tensors = await blobs.PutAsync(stream);
        await WriteAsync(r =>
        {
            r.State = CartridgeState.Serving;
            r.Spec = spec with { Corpus = "", SizeTokens = length };
            r.CorpusBlob = corpusBlob.Sha256;
            r.CartridgeBlob = tensors.Sha256;
            r.CreatedAt = DateTimeOffset.UtcNow;
        });
        await host.EnsureCartridgeAsync(model, tensors.Sha256, blobs, Key);
        return Status();
    }

    /// <inheritdoc />
    public async Task<CartridgeStatus> StartAsync()
    {
        RequireExists();
        if (R.State == CartridgeState.Serving || _run is { IsCompleted: false }) return Status();
        if (R.State is CartridgeState.Failed or CartridgeState.Stopped) await RepairAsync();
        integrity.Clear(Key);
        await WriteAsync(r =>
        {
            r.Running = true;
            r.Error = null;
            if (r.State is CartridgeState.Untrained or CartridgeState.Failed or CartridgeState.Stopped)
                r.State = r.Shards.Count == r.ShardsTotal && r.ShardsTotal > 0 ? CartridgeState.Training : CartridgeState.Generating;
        });
        await this.RegisterOrUpdateReminder(ResumeReminder, host.Options.ResumeReminderPeriod, host.Options.ResumeReminderPeriod);
        StartRun();
        return Status();
    }

    /// <inheritdoc />
    public Task<CartridgeStatus> GetStatusAsync() => Task.FromResult(Status());

    /// <inheritdoc />
    public async Task<CartridgeStatus> VerifyAsync()
    {
        RequireExists();
        if (R.State == CartridgeState.Serving && R.CartridgeBlob is { } blob)
        {
            try
            {
                await blobs.VerifyAsync(blob, host.Stopping);
            }
            catch (Exception e) when (e is BlobNotFoundException or BlobCorruptException)
            {
                await RecordBrokenTensorsAsync(e);
            }
        }
        return Status();
    }

    // Serving tensors that no longer verify: the cartridge fails (retryable) instead of answering every question with
    // an internal error, readiness lists it, and start rebuilds the tensors from what is still intact.
    async Task<string> RecordBrokenTensorsAsync(Exception e)
    {
        var error = $"serving failed: the trained tensors are {Lost(e)} in the blob store ({e.Message.TrimEnd('.')}); start it again to rebuild them";
        log.LogError(e, "Cartridge {Key}: {Error}", Key, error);
        await WriteAsync(r =>
        {
            r.State = CartridgeState.Failed;
            r.Error = error;
            r.Retryable = true;
            r.Running = false;
            r.CartridgeBlob = null;
        });
        integrity.Report(Key, error);
        return error;
    }

    static string Lost(Exception e) => e is BlobNotFoundException ? "missing" : "corrupt";

    // Before a retry: whatever no longer verifies is dropped so the run makes it again (shards are regenerated, a
    // broken checkpoint means training from the start). A lost corpus cannot be rebuilt: that failure is permanent.
    async Task RepairAsync()
    {
        try
        {
            await blobs.VerifyAsync(R.CorpusBlob!, host.Stopping);
        }
        catch (Exception e) when (e is BlobNotFoundException or BlobCorruptException)
        {
            var error = $"start failed: the corpus is {Lost(e)} in the blob store, so the cartridge cannot be rebuilt; delete it and create it again";
            await WriteAsync(r =>
            {
                r.State = CartridgeState.Failed;
                r.Error = error;
                r.Retryable = false;
                r.Running = false;
            });
            integrity.Report(Key, error);
            throw new CartridgeException(CartridgeException.Conflict, $"Cartridge '{Key}': {error}.");
        }
        var brokenShards = new List<int>();
        foreach (var (index, blob) in R.Shards)
            if (!await IntactAsync(blob)) brokenShards.Add(index);
        var brokenCheckpoint = false;
        if (R.Checkpoint is { } checkpoint)
            foreach (var blob in checkpoint.Files.Values)
                brokenCheckpoint |= !await IntactAsync(blob);
        var brokenTensors = R.CartridgeBlob is { } tensors && !await IntactAsync(tensors);
        if (brokenShards.Count == 0 && !brokenCheckpoint && !brokenTensors) return;
        log.LogWarning("Cartridge {Key}: rebuilding {Shards} shard(s){Checkpoint}{Tensors} that no longer verify", Key, brokenShards.Count,
            brokenCheckpoint ? ", the checkpoint" : "", brokenTensors ? ", the tensors" : "");
        await WriteAsync(r =>
        {
            foreach (var index in brokenShards) r.Shards.Remove(index);
            if (brokenCheckpoint)
            {
                r.Checkpoint = null;
                r.Step = 0;
            }
            if (brokenTensors) r.CartridgeBlob = null;
        });
    }

    async Task<bool> IntactAsync(string blob)
    {
        try
        {
            await blobs.VerifyAsync(blob, host.Stopping);
            return true;
        }
        catch (Exception e) when (e is BlobNotFoundException or BlobCorruptException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public Task<string> GetServingBlobAsync()
    {
        RequireExists();
        if (R.State != CartridgeState.Serving || R.CartridgeBlob is null)
            throw new CartridgeException(CartridgeException.NotReady, $"Cartridge '{Key}' is {R.State}, not Serving.");
        return Task.FromResult(R.CartridgeBlob);
    }

    /// <inheritdoc />
    public async Task<CartridgeStatus> StopAsync()
    {
        RequireExists();
        await StopWorkAsync();
        return Status();
    }

    // Cancels the running work at its next unit, waits for it to wind down, and records Stopped (unless it finished).
    async Task StopWorkAsync()
    {
        if (!R.Running && _run is null or { IsCompleted: true }) return;
        _stopping = true;
        try
        {
            _runStop?.Cancel();
            if (_run is { } run)
            {
                try
                {
                    await run;
                }
                catch (Exception e)
                {
                    log.LogDebug(e, "Cartridge {Key}: work ended while stopping", Key);
                }
            }
            await UnregisterReminderAsync();
            if (R.Running || R.State is CartridgeState.Generating or CartridgeState.Training)
            {
                await WriteAsync(r =>
                {
                    r.State = CartridgeState.Stopped;
                    r.Running = false;
                    r.Error = null;
                });
            }
        }
        finally
        {
            _stopping = false;
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync()
    {
        RequireExists();
        await StopWorkAsync();
        await host.ReleaseHolderAsync(Key);
        await UnregisterReminderAsync();
        integrity.Clear(Key);
        // Blobs are content-addressed and may be shared with other cartridges (same corpus, same shards), so they are
        // left to a store-wide collection; the cartridge itself is gone from here on.
        await record.ClearStateAsync();
        record.State = new CartridgeRecord();
        metrics.Track(Key, CartridgeState.None);
        DeactivateOnIdle();
    }

    /// <inheritdoc />
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ResumeReminder) return;
        if (!R.Running || R.State is not (CartridgeState.Generating or CartridgeState.Training))
        {
            await UnregisterReminderAsync();
            return;
        }
        if (_run is null or { IsCompleted: true }) StartRun();
    }

    void RequireExists()
    {
        if (R.State == CartridgeState.None) throw new CartridgeException(CartridgeException.NotFound, $"Cartridge '{Key}' does not exist.");
    }

    void StartRun()
    {
        if (_run is { IsCompleted: false }) return;
        _runStop?.Dispose();
        _runStop = CancellationTokenSource.CreateLinkedTokenSource(host.Stopping);
        _run = RunAsync();
    }

    async Task RunAsync()
    {
        // Keep the activation alive while it works: background work is not a request, so the activation would
        // otherwise look idle to activation collection.
        using var keepAlive = this.RegisterGrainTimer(() => Task.CompletedTask, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromMinutes(1),
            Period = TimeSpan.FromMinutes(1),
            KeepAlive = true,
        });
        try
        {
            if (R.State == CartridgeState.Generating)
            {
                await GenerateAsync();
                await WriteAsync(r => r.State = CartridgeState.Training);
            }
            if (R.State == CartridgeState.Training)
            {
                await TrainAsync();
            }
            await UnregisterReminderAsync();
            if (R.CartridgeBlob is { } blob)
            {
                var model = await host.GetAsync(R.Spec!.BaseModel);
                await host.EnsureCartridgeAsync(model, blob, blobs, Key);
            }
            _detail = null;
        }
        catch (Exception e) when (host.Stopping.IsCancellationRequested)
        {
            // The silo is going away: leave `Running` set so the reminder resumes the work elsewhere.
            log.LogInformation(e, "Cartridge {Key}: work interrupted by silo shutdown", Key);
        }
        catch (Exception e) when (_stopping)
        {
            // Stopped on request: StopWorkAsync records the state.
            log.LogInformation(e, "Cartridge {Key}: stopped in {State}", Key, R.State);
        }
        catch (Exception e)
        {
            log.LogError(e, "Cartridge {Key} failed in {State}", Key, R.State);
            var phase = R.State.ToString().ToLowerInvariant();
            try
            {
                await WriteAsync(r =>
                {
                    r.State = CartridgeState.Failed;
                    r.Error = $"{phase} failed: {paths.Scrub(e.Message)}";
                    r.Retryable = e is not CartridgeException { Code: CartridgeException.InvalidRequest };
                    r.Running = false;
                });
                await UnregisterReminderAsync();
            }
            catch (Exception inner)
            {
                log.LogError(inner, "Cartridge {Key}: could not record the failure", Key);
            }
        }
    }

    async Task GenerateAsync()
    {
        var spec = R.Spec!;
        var model = await host.GetAsync(spec.BaseModel);
        var corpus = await CorpusAsync();
        var options = CartridgeWork.SynthesisOptions(spec.Synthesis);
        var plan = SynthesisRunner.Plan(model.Engine, model.Tokenizer, corpus, options);
        if (R.ShardsTotal != plan.Shards.Count) await WriteAsync(r => r.ShardsTotal = plan.Shards.Count);
        _phaseClock.Restart();
        var doneAtStart = R.Shards.Count;

        var pending = new Queue<int>(Enumerable.Range(0, plan.Shards.Count).Where(i => !R.Shards.ContainsKey(i)));
        var failedSilos = new HashSet<SiloAddress>();
        for (var round = 0; pending.Count > 0; round++)
        {
            var silos = load.ActiveAccelerators().Where(s => !failedSilos.Contains(s)).ToArray();
            if (silos.Length == 0) silos = [silo.SiloAddress];
            if (round > 3) throw new InvalidOperationException($"Synthesis made no progress after {round} rounds; {pending.Count} shards remain.");
            _detail = $"synthesizing {pending.Count} shards on {silos.Length} silo(s)";
            await Task.WhenAll(silos.Select(s => ShardWorkerAsync(s, spec, pending, failedSilos, doneAtStart)));
        }
    }

    // Runs on the grain scheduler: the queue and record are only touched between awaits, one turn at a time.
    async Task ShardWorkerAsync(SiloAddress target, CartridgeSpec spec, Queue<int> pending, HashSet<SiloAddress> failedSilos, int doneAtStart)
    {
        var model = GrainFactory.GetGrain<IModelGrain>(SiloKeyedPlacement.Key(target, host.Options.CanonicalModelName(spec.BaseModel)));
        while (pending.TryDequeue(out var shard))
        {
            Work.ThrowIfCancellationRequested();
            string blob;
            try
            {
                blob = await model.SynthesizeShardAsync(new ShardWork { Cartridge = Key, CorpusBlob = R.CorpusBlob!, Synthesis = spec.Synthesis, Shard = shard });
            }
            catch (Exception e) when (!Work.IsCancellationRequested && e is not CartridgeException)
            {
                // That silo (or its engine) is gone: the shard goes back to the queue for the others.
                log.LogWarning(e, "Cartridge {Key}: shard {Shard} failed on {Silo}; reassigning", Key, shard, target);
                pending.Enqueue(shard);
                failedSilos.Add(target);
                return;
            }
            await WriteAsync(r => r.Shards[shard] = blob);
            var rate = (R.Shards.Count - doneAtStart) / Math.Max(1e-3, _phaseClock.Elapsed.TotalSeconds);
            _detail = $"{R.Shards.Count}/{R.ShardsTotal} shards, {rate * 60:F1} shards/min";
        }
    }

    async Task TrainAsync()
    {
        var spec = R.Spec!;
        var model = await host.GetAsync(spec.BaseModel);
        var corpus = await CorpusAsync();
        var work = host.WorkDirectory(silo.SiloAddress.ToParsableString(), "cartridges", Key.Replace('/', '_'), Guid.NewGuid().ToString("N"));
        try
        {
            _detail = "fetching dataset";
            var plan = SynthesisRunner.Plan(model.Engine, model.Tokenizer, corpus, CartridgeWork.SynthesisOptions(spec.Synthesis));
            var datasetDir = Path.Combine(work, "dataset");
            await CartridgeWork.WriteDatasetAsync(plan, R.Shards, blobs, datasetDir, Work);
            var data = SynthDataset.Open(datasetDir, model.Engine.Model.Config);
            if (data.Train.Count == 0) throw new InvalidOperationException("The synthesized dataset has no training conversations.");

            var checkpoints = Path.Combine(work, "checkpoints");
            Directory.CreateDirectory(checkpoints);
            if (R.Checkpoint is { } ckpt) await CartridgeWork.RestoreCheckpointAsync(checkpoints, ckpt.Directory, ckpt.Files, blobs, Work);

            var initTokens = CartridgeInitializer.InitTokens(model.Tokenizer, model.Engine.Model.Config, corpus, spec.SizeTokens);
            using var cartridge = await model.Engine.RunAsync(m => CartridgeInitializer.FromTokens(m, initTokens));
            var options = CartridgeWork.TrainerOptions(spec.Training, host.Options.CanonicalModelName(spec.BaseModel), checkpoints, resume: R.Checkpoint is not null,
                (R.Checkpoint is null ? null : TrainingCheckpoint.MicroBatchSizeOf(checkpoints)) ?? host.Options.TrainingMicroBatchSize);
            using var trainer = new Trainer(model.Engine.Model, cartridge, new DistillationObjective(data.Train), options);

            var saved = Channel.CreateUnbounded<TrainingProgress>();
            _phaseClock.Restart();
            var training = trainer.RunAsync(model.Engine, new InlineProgress<TrainingProgress>(p =>
            {
                _live = p;
                metrics.TrackTraining(Key, p.TokensPerSecond, p.Loss);
                if (p.Checkpoint is not null) saved.Writer.TryWrite(p);
            }), Work);
            // Upload checkpoints as they appear, on the grain scheduler (the state is written only from here).
            TrainingSummary summary;
            try
            {
                while (true)
                {
                    var next = saved.Reader.WaitToReadAsync().AsTask();
                    await Task.WhenAny(training, next);
                    while (saved.Reader.TryRead(out var p)) await UploadCheckpointAsync(p, Work);
                    if (training.IsCompleted) break;
                }
                summary = await training;
            }
            catch when (_stopping && !host.Stopping.IsCancellationRequested)
            {
                // Stopped on request: let the step in flight end, then keep every checkpoint the trainer wrote, so
                // start goes on from the latest one.
                try
                {
                    await training;
                }
                catch (OperationCanceledException)
                {
                }
                while (saved.Reader.TryRead(out var p)) await UploadCheckpointAsync(p, host.Stopping);
                throw;
            }
            while (saved.Reader.TryRead(out var p)) await UploadCheckpointAsync(p, Work);

            _detail = "storing the cartridge";
            var file = Path.Combine(work, "cartridge.safetensors");
            await model.Engine.RunAsync(_ =>
            {
                CartridgeFile.Save(file, cartridge, trainer.Metadata());
                return 0;
            });
            var blob = await blobs.PutFileAsync(file, Work);
            await WriteAsync(r =>
            {
                r.CartridgeBlob = blob.Sha256;
                r.Step = summary.OptimizerStep;
                r.Loss = double.IsNaN(summary.FinalLoss) ? null : summary.FinalLoss;
                r.ResumedFromStep = summary.ResumedFromStep;
                r.State = CartridgeState.Serving;
                r.Running = false;
            });
            log.LogInformation("Cartridge {Key} is serving after {Steps} steps (resumed from {From})", Key, summary.OptimizerStep, summary.ResumedFromStep);
        }
        finally
        {
            _live = null;
            metrics.TrackTraining(Key, null);
            TryDelete(work);
        }
    }

    async Task UploadCheckpointAsync(TrainingProgress p, CancellationToken ct)
    {
        var dir = p.Checkpoint!;
        if (!Directory.Exists(dir)) return; // pruned already; a later one supersedes it
        var files = await CartridgeWork.UploadCheckpointAsync(dir, blobs, ct);
        await WriteAsync(r =>
        {
            r.Checkpoint = new CheckpointRecord { Step = p.OptimizerStep, Directory = Path.GetFileName(dir), Files = files };
            r.Step = p.OptimizerStep;
            r.Loss = double.IsNaN(p.Loss) ? null : p.Loss;
        });
    }

    async Task<string> CorpusAsync() => Encoding.UTF8.GetString(await blobs.ReadAllAsync(R.CorpusBlob!, host.Stopping));

    /// <inheritdoc />
    public async Task<CartridgeAnswer> AskAsync(string question, AskOptions? options = null)
    {
        CartridgeAnswer? final = null;
        await foreach (var chunk in AskStreamAsync(question, options)) final = chunk.Final ?? final;
        return final!;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<AnswerChunk> AskStreamAsync(string question, AskOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new AskOptions();
        if (string.IsNullOrWhiteSpace(question)) throw new CartridgeException(CartridgeException.InvalidRequest, "The question is empty.");
        if (options.MaxTokens < 1) throw new CartridgeException(CartridgeException.InvalidRequest, $"max_tokens must be >= 1 (got {options.MaxTokens}).");
        RequireExists();
        await WaitForServingAsync(options.WaitForServing, cancellationToken);

        var spec = R.Spec!;
        var model = await host.GetAsync(spec.BaseModel);
        var parts = new List<(string Blob, int Tokens)> { (R.CartridgeBlob!, spec.SizeTokens) };
        foreach (var other in options.ComposeWith)
        {
            if (CartridgeKey.Problem(other.Split('/')[0], "tenant") is not null || !other.Contains('/'))
                throw new CartridgeException(CartridgeException.InvalidRequest, $"'{other}' is not a cartridge key (tenant/name).");
            var status = await GrainFactory.GetGrain<ICartridgeGrain>(other).GetStatusAsync();
            if (status.State == CartridgeState.None) throw new CartridgeException(CartridgeException.NotFound, $"Cartridge '{other}' does not exist.");
            if (status.State != CartridgeState.Serving || status.CartridgeBlob is null)
                throw new CartridgeException(CartridgeException.NotReady, $"Cartridge '{other}' is {status.State}, not Serving.");
            if (host.Options.CanonicalModelName(status.BaseModel ?? "") != host.Options.CanonicalModelName(spec.BaseModel))
                throw new CartridgeException(CartridgeException.InvalidRequest, $"Cartridge '{other}' was trained for base model '{status.BaseModel}', not '{spec.BaseModel}'.");
            parts.Add((status.CartridgeBlob, status.SizeTokens));
        }
        // Leases keep every part resident until the answer's last token (the residency budget evicts only idle cartridges).
        using var leases = new CartridgeLeases();
        for (var i = 0; i < parts.Count; i++)
        {
            try
            {
                leases.Add(await host.AcquireCartridgeAsync(model, parts[i].Blob, blobs, Key));
            }
            catch (Exception e) when (e is BlobNotFoundException or BlobCorruptException)
            {
                if (i == 0)
                {
                    var error = await RecordBrokenTensorsAsync(e);
                    throw new CartridgeException(CartridgeException.NotReady, $"Cartridge '{Key}' failed ({error}).");
                }
                // The composed cartridge's own grain records the failure, so its status and readiness show it too.
                var other = options.ComposeWith[i - 1];
                await GrainFactory.GetGrain<ICartridgeGrain>(other).VerifyAsync();
                throw new CartridgeException(CartridgeException.NotReady, $"Cartridge '{other}' cannot be composed: its trained tensors are {Lost(e)} in the blob store; start it again to rebuild them.");
            }
        }

        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(options.System)) messages.Add(new ChatMessage("system", options.System));
        foreach (var (turn, i) in options.History.Select((t, i) => (t, i)))
        {
            if (turn is not { Role: "user" or "assistant" } || turn.Content is null)
                throw new CartridgeException(CartridgeException.InvalidRequest, $"History turn {i} must be a user or assistant turn with content.");
            messages.Add(new ChatMessage(turn.Role, turn.Content));
        }
        messages.Add(new ChatMessage("user", question));
        var prompt = model.Template.WithThinking(options.EnableThinking).Encode(model.Tokenizer, messages, addGenerationPrompt: true, forCartridge: true);
        var cartridgeTokens = parts.Sum(p => p.Tokens);
        var context = model.Engine.Model.Config.MaxPositionEmbeddings;
        if (cartridgeTokens + prompt.Count >= context)
            throw new CartridgeException(CartridgeException.InvalidRequest,
                $"The question is too long: {prompt.Count} tokens after {cartridgeTokens} cartridge tokens exceed the model's context of {context}.");

        var (temperature, topP, topK) = model.SamplingDefaults.Resolve(options.Temperature, options.TopP, options.TopK);
        using var span = CartridgeTracing.Source.StartActivity("cartridge.generate");
        span?.SetTag("cartridge", Key);
        span?.SetTag("cartridge.prompt_tokens", prompt.Count);
        span?.SetTag("cartridge.prefix_tokens", cartridgeTokens);
        GenerationHandle handle;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            handle = model.Engine.Submit(new GenerationRequest
            {
                Prompt = prompt,
                PrefixIds = parts.Select(p => SiloEngineHost.PrefixId(p.Blob)).ToArray(),
                Sampling = new SamplingParams
                {
                    Temperature = temperature,
                    TopP = topP,
                    TopK = topK,
                    LogProbs = options.LogProbs,
                    // Without a seed every question draws its own, so unseeded sampling is never repeated by accident.
                    Seed = options.Seed ?? (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue),
                    MaxTokens = options.MaxTokens,
                    StopTokens = model.StopTokens,
                },
            }, stop.Token);
        }
        catch (ArgumentException e)
        {
            throw new CartridgeException(CartridgeException.InvalidRequest, e.Message);
        }

        var decoder = model.Tokenizer.CreateStreamingDecoder(skipSpecial: true);
        var text = new StringBuilder();
        var ids = new List<int>();
        var logProbs = new List<TokenLogProb>();
        var stopped = false;
        var clock = Stopwatch.StartNew();
        TimeSpan firstToken = default;
        // Text sent so far. A tail that could still become a stop string is held back until the next token settles it,
        // so the streamed pieces always add up to the final text, stop strings spanning tokens included.
        var sent = 0;
        await foreach (var id in handle.StreamAsync(CancellationToken.None))
        {
            if (stopped) continue;
            if (ids.Count == 0) firstToken = clock.Elapsed;
            ids.Add(id);
            var before = text.Length;
            text.Append(decoder.Push(id));
            if (StopAt(text, options.Stop, before) is { } cut)
            {
                text.Length = cut;
                stopped = true;
                stop.Cancel();
            }
            var safe = stopped ? text.Length : text.Length - PartialStopLength(text, options.Stop);
            var piece = safe > sent ? text.ToString(sent, safe - sent) : "";
            sent = Math.Max(sent, safe);
            var logProb = handle.LogProbsAt(ids.Count - 1) is { } lp ? Describe(model.Tokenizer, lp) : null;
            if (logProb is not null) logProbs.Add(logProb);
            if (piece.Length > 0 || !stopped || logProb is not null) yield return new AnswerChunk { Text = piece, TokenId = id, LogProb = logProb };
        }
        GenerationResult result;
        try
        {
            result = await handle.Completion;
        }
        catch (ArgumentException e)
        {
            throw new CartridgeException(CartridgeException.InvalidRequest, e.Message);
        }
        if (!stopped) text.Append(decoder.Flush());
        _answers.Add(ids.Count, DateTime.UtcNow);
        span?.SetTag("cartridge.completion_tokens", ids.Count);
        span?.SetTag("cartridge.time_to_first_token_ms", firstToken.TotalMilliseconds);
        // What was held back (a tail that never became a stop string) and the decoder's last bytes.
        if (text.Length > sent) yield return new AnswerChunk { Text = text.ToString(sent, text.Length - sent) };
        yield return new AnswerChunk
        {
            Final = new CartridgeAnswer
            {
                Text = text.ToString(),
                TokenIds = ids,
                PromptTokens = prompt.Count,
                CompletionTokens = ids.Count,
                CartridgeTokens = cartridgeTokens,
                FinishReason = stopped || result.FinishReason == FinishReason.Stop ? "stop" : "length",
                TimeToFirstToken = firstToken,
                Total = clock.Elapsed,
                Silo = silo.SiloAddress.ToParsableString(),
                LogProbs = options.LogProbs is null ? null : logProbs,
            },
        };
    }

    static TokenLogProb Describe(HfTokenizer tokenizer, TokenLogProbs lp)
    {
        TokenProbability Token(int id, float logProb)
        {
            var bytes = tokenizer.GetTokenBytes(id);
            return new TokenProbability(id, Encoding.UTF8.GetString(bytes), logProb, bytes);
        }
        return new TokenLogProb(Token(lp.Token, lp.LogProb), [.. lp.Top.Select(t => Token(t.Token, t.LogProb))]);
    }

    // The longest end of the text that is the start of a stop string (and so may still turn into one).
    static int PartialStopLength(StringBuilder text, IReadOnlyList<string> stops)
    {
        var longest = 0;
        foreach (var stop in stops)
        {
            for (var n = Math.Min(stop.Length - 1, text.Length); n > longest; n--)
            {
                var matches = true;
                for (var k = 0; k < n && matches; k++) matches = text[text.Length - n + k] == stop[k];
                if (matches)
                {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }

    // Where the first stop string ends the text, looking only at matches that touch the newly appended part.
    static int? StopAt(StringBuilder text, IReadOnlyList<string> stops, int appendedFrom)
    {
        if (stops.Count == 0) return null;
        var s = text.ToString();
        int? best = null;
        foreach (var stop in stops.Where(x => x.Length > 0))
        {
            var from = Math.Max(0, appendedFrom - stop.Length + 1);
            var at = s.IndexOf(stop, from, StringComparison.Ordinal);
            if (at >= 0 && (best is null || at < best)) best = at;
        }
        return best;
    }

    async Task WaitForServingAsync(TimeSpan? wait, CancellationToken ct)
    {
        if (R.State == CartridgeState.Serving) return;
        var deadline = Stopwatch.StartNew();
        while (wait is { } limit && deadline.Elapsed < limit && R.State is not (CartridgeState.Serving or CartridgeState.Failed or CartridgeState.None))
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        if (R.State == CartridgeState.Serving) return;
        throw new CartridgeException(CartridgeException.NotReady, R.State == CartridgeState.Failed
            ? $"Cartridge '{Key}' failed ({R.Error}); start it again to retry."
            : $"Cartridge '{Key}' is {R.State}, not Serving yet{(wait is null ? "" : $" after waiting {wait.Value.TotalSeconds:F0} s")}; start it and ask when it is Serving.");
    }

    CartridgeStatus Status()
    {
        var live = _live;
        var spec = R.Spec;
        var totalSteps = spec?.Training.Steps ?? 0;
        var step = live?.OptimizerStep ?? R.Step;
        var synthesis = R.ShardsTotal == 0 ? 0 : (double)R.Shards.Count / R.ShardsTotal;
        var training = totalSteps == 0 ? 0 : (double)step / totalSteps;
        var progress = R.State switch
        {
            CartridgeState.Serving => 1.0,
            CartridgeState.Generating => 0.5 * synthesis,
            CartridgeState.Training => 0.5 + 0.5 * training,
            CartridgeState.Failed => 0.5 * synthesis + 0.5 * training,
            _ => 0.0,
        };
        TimeSpan? eta = null;
        if (R.State == CartridgeState.Training && live is { } l && l.OptimizerStep > 0)
            eta = l.Elapsed / Math.Max(1, l.OptimizerStep - R.ResumedFromStep) * (totalSteps - l.OptimizerStep);
        return new CartridgeStatus
        {
            Key = Key,
            State = R.State,
            Progress = progress,
            Step = step,
            TotalSteps = totalSteps,
            Loss = live is { } lp && !double.IsNaN(lp.Loss) ? lp.Loss : R.Loss,
            Eta = eta,
            Error = R.Error,
            Retryable = R.Retryable,
            Silo = silo.SiloAddress.ToParsableString(),
            ResidentBytes = spec is null ? 0 : host.ResidentBytes(spec.BaseModel, R.CartridgeBlob),
            ShardsDone = R.Shards.Count,
            ShardsTotal = R.ShardsTotal,
            BaseModel = spec?.BaseModel,
            SizeTokens = spec?.SizeTokens ?? 0,
            ResumedFromStep = R.ResumedFromStep,
            CartridgeBlob = R.State == CartridgeState.Serving ? R.CartridgeBlob : null,
            CreatedAt = R.State == CartridgeState.None ? null : R.CreatedAt,
            Detail = _detail,
            TokensPerSecond = R.State switch
            {
                CartridgeState.Training => live?.TokensPerSecond,
                CartridgeState.Serving => _answers.PerSecond(DateTime.UtcNow),
                _ => null,
            },
        };
    }

    // State writes come from requests and from the background run; one at a time keeps the ETag sequence intact.
    async Task WriteAsync(Action<CartridgeRecord> change)
    {
        await _writeLock.WaitAsync();
        try
        {
            change(R);
            try
            {
                await record.WriteStateAsync();
            }
            catch (InconsistentStateException e)
            {
                // Someone else wrote since we read: after a silo crash, the old activation may still have flushed a
                // checkpoint before it noticed. Take the stored state and apply this change on top of it.
                log.LogWarning(e, "Cartridge {Key}: state changed underneath; re-reading and applying the change again", Key);
                await record.ReadStateAsync();
                change(R);
                await record.WriteStateAsync();
            }
        }
        finally
        {
            _writeLock.Release();
            metrics.Track(Key, R.State);
        }
    }

    async Task UnregisterReminderAsync()
    {
        if (await this.GetReminder(ResumeReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Scratch only; a leftover directory is harmless.
        }
    }

    /// <summary>Reports synchronously on the caller's thread (Progress&lt;T&gt; would post to a captured context).</summary>
    sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
