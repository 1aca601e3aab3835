// Continuous batching: each step admits waiting sequences, feeds every sequence still reading its prompt one prefill
// chunk, and decodes one token for every sequence past its prompt; sequences join and leave between steps, so a long
// prompt never stalls the others for more than a chunk. All tensor work happens on the DeviceWorker thread.
// Memory is admitted by KV blocks (the cache is paged): with a byte budget, a sequence starts only when its prompt fits,
// and when running sequences need more blocks than are left the newest are preempted (blocks freed, their tokens fed
// again later; the tokens they produce are unchanged, since the replayed cache is the same and draws are per sequence).
// A sequence's tokens do not depend on its batch-mates: greedy output equals generating it alone. Sampled
// output is reproducible per seed; against a single-row run it can differ only where BLAS's batched and
// single-row kernels round a logit differently (~1e-6) and the draw sits on that boundary, which matters only
// for near-flat distributions over thousands of tokens (no top-k).
using System.Diagnostics;
using Cartridges.Model.Transformer;

namespace Cartridges.Model.Engine;

/// <summary>Serves many concurrent generations on one model, each with its own prefixes and sampling.</summary>
public sealed class GenerationEngine : IDisposable
{
    readonly TransformerModel _model;
    readonly KvCache _cache;
    readonly Scheduler _scheduler;
    readonly ModelRunner _runner;
    readonly PrefixRegistry _prefixes = new();
    readonly DeviceWorker _worker;
    readonly IDisposable _stepRegistration;
    readonly Queue<(long Ticks, int Tokens)> _recent = new();
    long _nextId, _tokens;
    readonly long _weightBytes;
    readonly int _initialSlots, _initialLength, _prefillChunk;
    volatile bool _disposed;
    int _lastBatch;
    int _maxBatch;
    long _decodeSteps;
    long _decodeRows;
    long _preemptions;
    volatile EngineStats _stats;

    /// <summary>The model (touch its tensors only through RunAsync).</summary>
    public TransformerModel Model => _model;

    /// <summary>Creates the engine around a loaded model; the engine owns and disposes it.</summary>
    public GenerationEngine(TransformerModel model, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        _model = model;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PrefillChunkTokens, 1);
        (_initialSlots, _initialLength, _prefillChunk) = (Math.Min(options.MaxBatch, 8), options.InitialCacheLength, options.PrefillChunkTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(options.KvCacheMaxBytes);
        var blockBytes = KvCache.BlockBytes(model.Config, model.DType);
        if (options.KvCacheMaxBytes > 0 && options.KvCacheMaxBytes < blockBytes)
            throw new ArgumentException($"KvCacheMaxBytes ({options.KvCacheMaxBytes}) is below one KV block ({blockBytes} bytes).");
        var maxBlocks = options.KvCacheMaxBytes == 0 ? 0 : (int)Math.Min(int.MaxValue, options.KvCacheMaxBytes / blockBytes);
        _cache = model.NewCache(_initialSlots, _initialLength, maxBlocks);
        _scheduler = new Scheduler(options.MaxBatch, model.Config.MaxPositionEmbeddings);
        _runner = new ModelRunner(model, _cache);
        _weightBytes = model.WeightBytes;
        _stats = Snapshot();
        _worker = DeviceWorker.For(model.Device);
        _stepRegistration = _worker.AddStep(Step, FailAll);
    }

    /// <summary>Loads a model directory on its device's thread.</summary>
    public static async Task<GenerationEngine> LoadAsync(string modelDir, EngineOptions? options = null, string? device = null)
    {
        var target = TorchRuntime.Parse(device);
        var headBytes = (options ?? new EngineOptions()).TransposedHeadMaxBytes;
        var model = await DeviceWorker.For(target).InvokeAsync(() =>
        {
            var loaded = TransformerModel.Load(modelDir, target);
            // The engine never changes its base weights. A float32 head is read in place by the few-row decode path,
            // so a copy would only take memory.
            if (loaded.DType != TorchSharp.torch.ScalarType.Float32) loaded.KeepTransposedHead(headBytes);
            return loaded;
        });
        return new GenerationEngine(model, options);
    }

    /// <summary>Latest statistics (updated after every step; safe from any thread).</summary>
    public EngineStats Stats => _stats;

    /// <summary>Queues a generation; tokens stream from the handle.</summary>
    public GenerationHandle Submit(GenerationRequest request, CancellationToken ct = default)
    {
        if (request.Prompt.Count == 0) throw new ArgumentException("The prompt is empty: at least one token is needed.");
        request.Sampling.Validate();
        var context = _model.Config.MaxPositionEmbeddings;
        if (request.Prompt.Count >= context)
            throw new ArgumentException($"The prompt has {request.Prompt.Count} tokens; the model's context is {context}.");
        var vocab = _model.Config.VocabSize;
        var bad = request.Prompt.FirstOrDefault(t => t < 0 || t >= vocab, -1);
        if (request.Prompt.Any(t => t < 0 || t >= vocab)) throw new ArgumentException($"Token id {bad} is outside the vocabulary (0..{vocab - 1}).");
        if (_cache.MaxBlocks > 0 && _cache.BlocksFor(request.Prompt.Count + 1) > _cache.MaxBlocks)
            throw new ArgumentException(
                $"The prompt has {request.Prompt.Count} tokens; the KV cache budget holds {_cache.MaxBlocks * _cache.BlockSize} tokens in all.");
        var handle = new GenerationHandle();
        _scheduler.Enqueue(new Sequence
        {
            Id = Interlocked.Increment(ref _nextId),
            Request = request,
            Handle = handle,
            Sampler = new Sampler(request.Sampling),
            Cancellation = ct,
        });
        _worker.Wake();
        return handle;
    }

    /// <summary>Generates to completion.</summary>
    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken ct = default) =>
        Submit(request, ct).Completion;

    /// <summary>Runs tensor work (scoring, training, prefix building) on the device thread.</summary>
    public Task<T> RunAsync<T>(Func<TransformerModel, T> work) => _worker.InvokeAsync(() => work(_model));

    /// <summary>Registers a prefix under an id; the engine owns it from now on.</summary>
    public Task RegisterPrefixAsync(string id, Func<TransformerModel, KvPrefix> build) =>
        _worker.InvokeAsync(() =>
        {
            if (_prefixes.Contains(id)) throw new InvalidOperationException($"A prefix with id '{id}' is already registered.");
            var prefix = build(_model);
            try
            {
                prefix.CheckCompatible(_model.Config.NumHiddenLayers, _model.Config.NumKeyValueHeads, _model.Config.HeadDim);
                _prefixes.Add(id, prefix);
            }
            catch
            {
                prefix.Dispose();
                throw;
            }
            _stats = Snapshot();
        });

    /// <summary>Registers the keys/values of the given tokens (positions 0..n-1) as a prefix.</summary>
    public Task RegisterPrefixFromTokensAsync(string id, IReadOnlyList<int> tokens) =>
        RegisterPrefixAsync(id, m => PrefixBuilder.FromTokens(m, tokens));

    /// <summary>Unregisters a prefix; its memory is freed when no running sequence uses it.</summary>
    public Task<bool> UnregisterPrefixAsync(string id) => _worker.InvokeAsync(() =>
    {
        var removed = _prefixes.Remove(id);
        _stats = Snapshot();
        return removed;
    });

    /// <summary>Ids of registered prefixes.</summary>
    public Task<string[]> PrefixIdsAsync() => _worker.InvokeAsync(() => _prefixes.Ids.ToArray());

    bool Step()
    {
        if (_disposed) return false;
        var started = Stopwatch.GetTimestamp();
        var produced = 0;
        long promised = 0;
        foreach (var s in _scheduler.Admit(s => Fits(s, ref promised))) Start(s);
        foreach (var s in _scheduler.Running.Where(r => !r.Decoding).ToArray()) produced += PrefillChunk(s) ? 1 : 0;

        var running = MakeRoomForDecode();
        if (running.Length > 0)
        {
            try
            {
                var rows = _runner.Decode(running.Select(r => r.Slot).ToArray(), running.Select(r => r.Generated[^1]).ToArray(),
                    running.Select(r => r.Segments).ToArray(), running.Select(ChoiceOf).ToArray());
                for (var i = 0; i < running.Length; i++) Emit(running[i], rows, i);
                produced += running.Length;
                _lastBatch = running.Length;
                _maxBatch = Math.Max(_maxBatch, running.Length);
                _decodeSteps++;
                _decodeRows += running.Length;
            }
            catch (Exception e)
            {
                foreach (var r in running) Fail(r, e);
            }
            foreach (var r in running)
            {
                if (_scheduler.StopReason(r) is { } reason) Finish(r, reason);
            }
        }
        if (_scheduler.Running.Count == 0 && _scheduler.Waiting == 0)
        {
            // A long prompt grows the block pool; give it back when idle.
            _cache.Shrink();
        }
        Record(started, produced);
        return _scheduler.Running.Count > 0 || _scheduler.Waiting > 0;
    }

    void FailAll(Exception e)
    {
        foreach (var r in _scheduler.Running.ToArray()) Fail(r, e);
    }

    /// <summary>Admits a waiting sequence: its prefixes and a cache slot (its prompt is fed by <see cref="PrefillChunk"/>).</summary>
    void Start(Sequence s)
    {
        if (s.Cancellation.IsCancellationRequested)
        {
            Release(s);
            Complete(s, FinishReason.Cancelled);
            return;
        }
        if (s.HoldsPrefixes)
        {
            // Back from a preemption: prefixes are still held; only a slot is needed.
            s.Slot = _cache.Allocate();
            _scheduler.Start(s);
            return;
        }
        try
        {
            s.Segments = _prefixes.Acquire(s.Request.PrefixIds);
            s.HoldsPrefixes = true;
        }
        catch (Exception e)
        {
            Reject(s, e);
            return;
        }
        s.PrefixLength = PrefixSegment.TotalLength(s.Segments);
        var context = _model.Config.MaxPositionEmbeddings;
        if (s.PrefixLength + s.Request.Prompt.Count >= context)
        {
            Release(s);
            Reject(s, new ArgumentException(
                $"Prefix ({s.PrefixLength} tokens) plus prompt ({s.Request.Prompt.Count} tokens) exceed the model's context of {context}."));
            return;
        }
        s.Slot = _cache.Allocate();
        _scheduler.Start(s);
        EngineMetrics.Admitted(s.Clock.Elapsed);
    }

    /// <summary>Feeds the next chunk of a sequence's prompt; after the last one samples its first token. True if a token came.</summary>
    bool PrefillChunk(Sequence s)
    {
        if (s.Slot < 0) return false; // preempted earlier in this step by an older sequence's prefill

        if (s.Cancellation.IsCancellationRequested)
        {
            Finish(s, FinishReason.Cancelled);
            return false;
        }
        RowLogits? rows;
        try
        {
            var feed = s.Feed;
            var count = Math.Min(_prefillChunk, feed.Count - s.Prefilled);
            if (!MakeRoom(s, count)) return false;
            var last = s.Prefilled + count == feed.Count;
            var replay = s.Replay is not null;
            // A replay's next token was chosen before its preemption: its last chunk draws nothing and emits nothing.
            rows = _runner.Prefill(s.Slot, feed, s.Prefilled, count, s.Segments, last && !replay ? ChoiceOf(s) : ReplayChoice);
            s.Prefilled += count;
            if (rows is { } r)
            {
                if (replay)
                {
                    s.Replay = null;
                    return false;
                }
                Emit(s, r, 0);
            }
        }
        catch (Exception e)
        {
            Fail(s, e);
            return false;
        }
        if (rows is null) return false;
        if (_scheduler.StopReason(s) is { } reason) Finish(s, reason);
        return true;
    }

    /// <summary>The row choice of a sequence's next token; draws from its stream only when it samples.</summary>
    static RowChoice ChoiceOf(Sequence s) =>
        new(s.Sampler.Params, s.Sampler.IsGreedy ? 0 : s.Sampler.NextUniform(), s.Sampler.NeedsRow);

    static void Emit(Sequence s, RowLogits rows, int i)
    {
        var token = (int)rows.Chosen[i];
        s.FirstToken ??= s.Clock.Elapsed;
        s.Generated.Add(token);
        // Recorded before the token is written, so a reader of token k always finds its log-probabilities.
        if (s.Request.Sampling.LogProbs is { } top) s.Handle.AddLogProbs(TokenLogProbs.From(rows.Rows[i]!, token, top));
        s.Handle.Channel.Writer.TryWrite(token);
    }

    void Finish(Sequence s, FinishReason reason)
    {
        Release(s);
        Complete(s, reason);
    }

    void Fail(Sequence s, Exception e)
    {
        Release(s);
        Reject(s, e);
    }

    static void Reject(Sequence s, Exception e)
    {
        s.Handle.Channel.Writer.TryComplete(e);
        s.Handle.Source.TrySetException(e);
    }

    void Release(Sequence s)
    {
        if (s.Slot >= 0)
        {
            _cache.Free(s.Slot);
            s.Slot = -1;
        }
        _scheduler.Remove(s);
        if (s.HoldsPrefixes)
        {
            _prefixes.Release(s.Request.PrefixIds);
            s.HoldsPrefixes = false;
        }
    }

    static void Complete(Sequence s, FinishReason reason)
    {
        var result = new GenerationResult(s.Generated.ToArray(), reason, s.Request.Prompt.Count, s.FirstToken ?? s.Clock.Elapsed, s.Clock.Elapsed);
        EngineMetrics.Finished(result);
        s.Handle.Channel.Writer.TryComplete();
        s.Handle.Source.TrySetResult(result);
    }

    static readonly RowChoice ReplayChoice = new(new SamplingParams(), 0, false);

    /// <summary>
    /// Admission by KV blocks: a sequence starts only if the blocks its prompt needs (and one for its first token) are
    /// available after what running prefills still need and what this step already promised.
    /// </summary>
    bool Fits(Sequence s, ref long promised)
    {
        if (_cache.MaxBlocks == 0) return true;
        long outstanding = _scheduler.Running.Where(r => !r.Decoding)
            .Sum(r => Math.Max(0, _cache.BlocksFor(r.Feed.Count + 1) - _cache.BlocksOf(r.Slot)));
        var need = _cache.BlocksFor(s.Feed.Count + 1);
        if (need > _cache.AvailableBlocks - outstanding - promised) return false;
        promised += need;
        return true;
    }

    /// <summary>
    /// Makes room for <paramref name="tokens"/> more tokens of <paramref name="s"/> by preempting newer sequences; when
    /// that is not enough, <paramref name="s"/> itself is preempted (or failed, if nothing else holds blocks). False when
    /// <paramref name="s"/> cannot run this step.
    /// </summary>
    bool MakeRoom(Sequence s, int tokens)
    {
        int Need() => Math.Max(0, _cache.BlocksFor(_cache.LengthOf(s.Slot) + tokens) - _cache.BlocksOf(s.Slot));
        while (Need() > _cache.AvailableBlocks)
        {
            var victim = _scheduler.Running.Where(r => r.Id > s.Id).MaxBy(r => r.Id);
            if (victim is null) break;
            Preempt(victim);
        }
        if (Need() <= _cache.AvailableBlocks) return true;
        Evict(s, tokens);
        return false;
    }

    /// <summary>The sequences to decode this step, after preempting the newest ones if their next tokens need more blocks than are left.</summary>
    Sequence[] MakeRoomForDecode()
    {
        if (_cache.MaxBlocks == 0) return _scheduler.Running.Where(r => r.Decoding).ToArray();
        while (true)
        {
            var decoding = _scheduler.Running.Where(r => r.Decoding).ToArray();
            var need = decoding.Count(r => _cache.LengthOf(r.Slot) + 1 > _cache.BlocksOf(r.Slot) * _cache.BlockSize);
            if (need <= _cache.AvailableBlocks) return decoding;
            Evict(_scheduler.Running.MaxBy(r => r.Id)!, 1);
        }
    }

    /// <summary>
    /// Frees <paramref name="s"/>'s blocks because it needs <paramref name="tokens"/> more than are left: preempted, or,
    /// when it is the only running sequence (it alone exceeds the budget), failed with the budget named.
    /// </summary>
    void Evict(Sequence s, int tokens)
    {
        if (_scheduler.Running.Count == 1)
            Fail(s, new KvCacheFullException($"One sequence of {_cache.LengthOf(s.Slot) + tokens} tokens exceeds the KV cache budget of {_cache.MaxBlocks * _cache.BlockSize} tokens."));
        else Preempt(s);
    }

    /// <summary>Frees a running sequence's blocks and queues it to be fed again (recompute); its prefixes stay held.</summary>
    void Preempt(Sequence s)
    {
        _cache.Free(s.Slot);
        s.Slot = -1;
        s.Replay = s.Generated.Count > 0 ? [.. s.Request.Prompt, .. s.Generated.Take(s.Generated.Count - 1)] : null;
        s.Prefilled = 0;
        _scheduler.Preempt(s);
        _preemptions++;
    }

    void Record(long started, int produced)
    {
        var now = Stopwatch.GetTimestamp();
        if (produced > 0)
        {
            _tokens += produced;
            _recent.Enqueue((now, produced));
        }
        while (_recent.Count > 0 && Stopwatch.GetElapsedTime(_recent.Peek().Ticks, now) > TimeSpan.FromSeconds(10)) _recent.Dequeue();
        _ = started;
        _stats = Snapshot();
    }

    EngineStats Snapshot()
    {
        double rate = 0;
        if (_recent.Count > 1)
        {
            var span = Stopwatch.GetElapsedTime(_recent.Peek().Ticks, _recent.Last().Ticks).TotalSeconds;
            if (span > 0) rate = _recent.Skip(1).Sum(r => r.Tokens) / span;
        }
        return new EngineStats(_weightBytes, _prefixes.Bytes, _cache.Bytes, _prefixes.Count, _scheduler.Running.Count,
            _scheduler.Waiting, _lastBatch, _tokens, rate)
        {
            MaxBatchSize = _maxBatch,
            DecodeSteps = _decodeSteps,
            DecodeRows = _decodeRows,
            MeanBatchSize = _decodeSteps == 0 ? 0 : (double)_decodeRows / _decodeSteps,
            Preemptions = _preemptions,
            KvBlocks = _cache.TotalBlocks,
            FreeKvBlocks = _cache.FreeBlocks,
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _worker.InvokeAsync(() =>
        {
            _disposed = true;
            foreach (var s in _scheduler.Running.ToArray()) Finish(s, FinishReason.Cancelled);
            foreach (var s in _scheduler.DrainWaiting()) Complete(s, FinishReason.Cancelled);
            _prefixes.Dispose();
            _cache.Dispose();
            _model.Dispose();
        }).Wait();
        _stepRegistration.Dispose();
    }
}
