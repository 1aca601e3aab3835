// One dedicated thread per device owns every tensor: TorchSharp dispose scopes and no_grad are per-thread,
// and an await inside a scope would resume elsewhere. Callers post work and await the result.
using System.Collections.Concurrent;

namespace Cartridges.Model.Engine;

/// <summary>A thread that runs submitted work items one at a time, plus an idle-loop hook for batching.</summary>
public sealed class DeviceWorker : IDisposable
{
    readonly BlockingCollection<Action> _queue = new();
    readonly Thread _thread;
    readonly Func<bool>? _step;
    volatile bool _stopping;

    /// <summary>Starts the thread. `step` runs between work items and returns true while it has more to do.</summary>
    public DeviceWorker(string name, Func<bool>? step = null)
    {
        _step = step;
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Called with any exception that escapes the step function.</summary>
    public Action<Exception>? StepFailed { get; set; }

    /// <summary>True when called from the worker thread itself.</summary>
    public bool IsCurrent => Thread.CurrentThread == _thread;

    void Loop()
    {
        while (!_stopping)
        {
            bool busy;
            try
            {
                busy = _step?.Invoke() ?? false;
            }
            catch (Exception e)
            {
                // The step owns its error reporting; a throw here must not kill the device thread.
                StepFailed?.Invoke(e);
                busy = false;
            }
            while (_queue.TryTake(out var work)) work();
            if (!busy && !_stopping)
            {
                try
                {
                    if (_queue.TryTake(out var next, Timeout.Infinite)) next();
                }
                catch (InvalidOperationException)
                {
                    return; // completed for adding: shutting down
                }
            }
        }
    }

    /// <summary>Wakes the loop (e.g. after new sequences were queued).</summary>
    public void Wake()
    {
        if (!_queue.IsAddingCompleted) _queue.TryAdd(static () => { });
    }

    /// <summary>Runs a function on the worker thread.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        if (IsCurrent) return Task.FromResult(work());
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.Add(() =>
            {
                try
                {
                    tcs.SetResult(work());
                }
                catch (Exception e)
                {
                    tcs.SetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(DeviceWorker), "The device worker has stopped.");
        }
        return tcs.Task;
    }

    /// <summary>Runs an action on the worker thread.</summary>
    public Task InvokeAsync(Action work) => InvokeAsync(() =>
    {
        work();
        return true;
    });

    /// <inheritdoc />
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _queue.CompleteAdding();
        if (!IsCurrent) _thread.Join();
        _queue.Dispose();
    }
}
