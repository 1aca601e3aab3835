// Continuous batching: each step admits waiting sequences, feeds every sequence still reading its prompt one prefill
// chunk, and decodes one token for every sequence past its prompt; sequences join and leave between steps, so a long
// prompt never stalls the others for more than a chunk. All tensor work happens on the DeviceWorker thread.
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
        _cache = model.NewCache(_initialSlots, _initialLength);
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
            loaded.KeepTransposedHead(headBytes); // the engine never changes its base weights
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
        foreach (var s in _scheduler.Admit()) Start(s);
        foreach (var s in _scheduler.Running.Where(r => !r.Decoding).ToArray()) produced += PrefillChunk(s) ? 1 : 0;

        var running = _scheduler.Running.Where(r => r.Decoding).ToArray();
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
            Compact();
        }
        if (_scheduler.Running.Count == 0 && _scheduler.Waiting == 0)
        {
            // One long prompt grows every slot's capacity (one contiguous buffer); give it back when idle.
            _cache.Shrink(_initialSlots, _initialLength);
        }
        Record(started, produced);
        return _scheduler.Running.Count > 0 || _scheduler.Waiting > 0;
    }

    void FailAll(Exception e)
    {
        foreach (var r in _scheduler.Running.ToArray()) Fail(r, e);
        Compact();
    }

    /// <summary>Admits a waiting sequence: its prefixes and a cache slot (its prompt is fed by <see cref="PrefillChunk"/>).</summary>
    void Start(Sequence s)
    {
        if (s.Cancellation.IsCancellationRequested)
        {
            Complete(s, FinishReason.Cancelled);
            return;
        }
        try
        {
            s.Segments = _prefixes.Acquire(s.Request.PrefixIds);
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
            _prefixes.Release(s.Request.PrefixIds);
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
        if (s.Cancellation.IsCancellationRequested)
        {
            Finish(s, FinishReason.Cancelled);
            Compact();
            return false;
        }
        RowLogits? rows;
        try
        {
            var count = Math.Min(_prefillChunk, s.Request.Prompt.Count - s.Prefilled);
            var last = s.Prefilled + count == s.Request.Prompt.Count;
            rows = _runner.Prefill(s.Slot, s.Request.Prompt, s.Prefilled, count, s.Segments, last ? ChoiceOf(s) : default);
            s.Prefilled += count;
            if (rows is { } r) Emit(s, r, 0);
        }
        catch (Exception e)
        {
            Fail(s, e);
            Compact();
            return false;
        }
        if (rows is null) return false;
        if (_scheduler.StopReason(s) is { } reason)
        {
            Finish(s, reason);
            Compact();
        }
        return true;
    }

    /// <summary>The row choice of a sequence's next token; draws from its stream only when it samples.</summary>
    static RowChoice ChoiceOf(Sequence s) =>
        new(s.Sampler.Params, s.Sampler.IsGreedy ? 0 : s.Sampler.NextUniform(), s.Sampler.NeedsRow);

    static int Choose(Sequence s, RowLogits rows, int i) => (int)rows.Chosen[i];

    static void Emit(Sequence s, RowLogits rows, int i)
    {
        var token = Choose(s, rows, i);
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
        if (_scheduler.Running.Contains(s))
        {
            _scheduler.Remove(s);
            _prefixes.Release(s.Request.PrefixIds);
        }
    }

    static void Complete(Sequence s, FinishReason reason)
    {
        var result = new GenerationResult(s.Generated.ToArray(), reason, s.Request.Prompt.Count, s.FirstToken ?? s.Clock.Elapsed, s.Clock.Elapsed);
        EngineMetrics.Finished(result);
        s.Handle.Channel.Writer.TryComplete();
        s.Handle.Source.TrySetResult(result);
    }

    /// <summary>Keeps running sequences in slots 0..n-1 so a decode batch reads the cache as one view.</summary>
    void Compact()
    {
        var running = _scheduler.Running;
        for (var i = 0; i < running.Count; i++)
        {
            if (running[i].Slot == i) continue;
            _cache.Move(running[i].Slot, i);
            running[i].Slot = i;
        }
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
