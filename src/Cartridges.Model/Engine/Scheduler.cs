// Decides, without touching tensors, which sequences run in the next step and which are done
// (the vLLM split: scheduler here, tensors in ModelRunner, the loop in EngineCore).
using System.Collections.Concurrent;

namespace Cartridges.Model.Engine;

/// <summary>Waiting queue, running set (kept in slot order) and stop rules.</summary>
internal sealed class Scheduler(int maxBatch, int maxContext)
{
    readonly ConcurrentQueue<Sequence> _waiting = new();
    readonly List<Sequence> _running = [];

    public int MaxBatch { get; } = maxBatch;
    public int Waiting => _waiting.Count;
    public IReadOnlyList<Sequence> Running => _running;

    public void Enqueue(Sequence s) => _waiting.Enqueue(s);

    /// <summary>Sequences to start now, up to the free batch capacity.</summary>
    public List<Sequence> Admit()
    {
        var admitted = new List<Sequence>();
        while (_running.Count + admitted.Count < MaxBatch && _waiting.TryDequeue(out var s)) admitted.Add(s);
        return admitted;
    }

    /// <summary>Adds a started sequence; the running list stays ordered by cache slot.</summary>
    public void Start(Sequence s)
    {
        var i = _running.FindIndex(r => r.Slot > s.Slot);
        _running.Insert(i < 0 ? _running.Count : i, s);
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
        var all = new List<Sequence>();
        while (_waiting.TryDequeue(out var s)) all.Add(s);
        return all;
    }
}
