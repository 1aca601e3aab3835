// Decides, without touching tensors, which sequences run in the next step and which are done
// (the vLLM split: scheduler here, tensors in ModelRunner, the loop in EngineCore).
using System.Collections.Concurrent;

namespace Cartridges.Model.Engine;

/// <summary>Waiting queue, running set (kept in slot order) and stop rules.</summary>
internal sealed class Scheduler(int maxBatch, int maxContext)
{
    readonly ConcurrentQueue<Sequence> _waiting = new();
    readonly List<Sequence> _running = [];
    readonly List<Sequence> _preempted = [];

    public int MaxBatch { get; } = maxBatch;
    public int Waiting => _waiting.Count + _preempted.Count;
    public IReadOnlyList<Sequence> Running => _running;

    public void Enqueue(Sequence s) => _waiting.Enqueue(s);

    /// <summary>
    /// Takes sequences to start, preempted ones first, in order, while the batch has room and <paramref name="fits"/>
    /// accepts the next one (it stops at the first that does not fit, so the order is kept).
    /// </summary>
    public List<Sequence> Admit(Func<Sequence, bool> fits)
    {
        var admitted = new List<Sequence>();
        while (_running.Count + admitted.Count < MaxBatch)
        {
            if (_preempted.Count > 0)
            {
                if (!fits(_preempted[0])) break;
                admitted.Add(_preempted[0]);
                _preempted.RemoveAt(0);
                continue;
            }
            if (!_waiting.TryPeek(out var next) || !fits(next) || !_waiting.TryDequeue(out next)) break;
            admitted.Add(next);
        }
        return admitted;
    }

    /// <summary>Adds an admitted sequence to the running ones.</summary>
    public void Start(Sequence s) => _running.Add(s);

    /// <summary>Takes a running sequence out and queues it ahead of every waiting one (it keeps its place).</summary>
    public void Preempt(Sequence s)
    {
        _running.Remove(s);
        var i = _preempted.FindIndex(p => p.Id > s.Id);
        _preempted.Insert(i < 0 ? _preempted.Count : i, s);
    }

    public void Remove(Sequence s) => _running.Remove(s);

    /// <summary>Why the sequence must stop after its latest token, or null to continue.</summary>
    public FinishReason? StopReason(Sequence s)
    {
        if (s.Cancellation.IsCancellationRequested) return FinishReason.Cancelled;
        if (s.Generated.Count > 0 && s.Request.Sampling.StopTokens.Contains(s.Generated[^1])) return FinishReason.Stop;
        if (s.Generated.Count >= s.Request.Sampling.MaxTokens) return FinishReason.Length;
        if (s.NextPosition + 1 >= maxContext) return FinishReason.Length;
        return null;
    }

    /// <summary>Drains the waiting queue (shutdown).</summary>
    public List<Sequence> DrainWaiting()
    {
        var all = new List<Sequence>(_preempted);
        _preempted.Clear();
        while (_waiting.TryDequeue(out var s)) all.Add(s);
        return all;
    }
}
