// One dedicated thread per device owns every tensor: TorchSharp dispose scopes and no_grad are per-thread,
// and an await inside a scope would resume elsewhere. Callers post work and await the result; engines on
// the same device register their step functions here, so they share the device instead of fighting over it.
// Decode comes first: while an engine has sequences running, posted work (a training micro-batch, a synthesis
// scoring pass) gets at most a third of the device: a work item is followed by decode steps that take twice its time
// before the next one runs, so a question asked during training is slowed by about half, plus at most the one work
// item it arrived during. When the last answer ends while decode is still owed time, the device waits up to 50 ms for
// a next question before work takes it back: clients ask again right after an answer (a chat's next turn, a batch
// client's next request), and measured with back-to-back asks on a training silo, every ask otherwise arrived just
// after a work item had started and waited for all of it.
using System.Collections.Concurrent;
using System.Diagnostics;
using TorchSharp;

namespace Cartridges.Model.Engine;

/// <summary>The process-wide thread of one device: runs posted work items and the registered engines' steps.</summary>
public sealed class DeviceWorker
{
    static readonly ConcurrentDictionary<string, DeviceWorker> Workers = new();

    readonly BlockingCollection<Action> _queue = new();
    readonly Thread _thread;
    readonly object _gate = new();
    (Func<bool> Step, Action<Exception> OnError)[] _steps = [];

    DeviceWorker(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>The worker of a device (created on first use, lives as long as the process).</summary>
    public static DeviceWorker For(torch.Device device) =>
        Workers.GetOrAdd(device.ToString(), key => new DeviceWorker($"cartridges-device-{key}"));

    /// <summary>True when called from the worker thread itself.</summary>
    public bool IsCurrent => Thread.CurrentThread == _thread;

    /// <summary>
    /// Registers a step run between work items while it returns true (more to do). Exceptions escaping the
    /// step go to onError, never to the thread. Dispose the result to unregister.
    /// </summary>
    public IDisposable AddStep(Func<bool> step, Action<Exception> onError)
    {
        var entry = (step, onError);
        lock (_gate) _steps = [.. _steps, entry];
        Wake();
        return new Registration(() =>
        {
            lock (_gate) _steps = _steps.Where(s => s != entry).ToArray();
        });
    }

    sealed class Registration(Action remove) : IDisposable
    {
        int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) remove();
        }
    }

    void Loop()
    {
        // Device time the engines' steps are owed for posted work (Stopwatch ticks): twice each item's time. It never goes
        // below zero: steps run before work arrived earn it no credit.
        long debt = 0, lastWork = 0;
        var wasBusy = false;
        while (true)
        {
            var engines = false;
            _submitted.Reset(); // a sequence submitted from here on is seen by the steps below or sets it again
            var started = Stopwatch.GetTimestamp();
            foreach (var (step, onError) in _steps)
            {
                try
                {
                    engines |= step();
                }
                catch (Exception e)
                {
                    onError(e);
                }
            }
            // Sequences that arrive on an idle engine have just waited for the work item then running: that item is owed
            // too, or the next one would start right after their first step.
            if (engines && !wasBusy) debt = DecodeShare * lastWork;
            var owed = Math.Max(0, debt - (Stopwatch.GetTimestamp() - started));
            debt = engines ? owed : 0;
            var answered = wasBusy && !engines;
            wasBusy = engines;
            if (answered && owed > 0 && _queue.Count > 0 && _submitted.Wait(TimeSpan.FromTicks(Math.Min(owed, NextQuestionWait) * TimeSpan.TicksPerSecond / Stopwatch.Frequency)))
            {
                // A question came while decode was still owed time: it keeps that time.
                (debt, wasBusy) = (owed, true);
                continue;
            }
            // A work item may submit sequences (and its wake-up is drained right here), so running any work
            // counts as busy: the steps get another look before the thread blocks.
            var busy = engines;
            while ((!engines || debt == 0) && _queue.TryTake(out var work))
            {
                Run(work, engines);
                busy = true;
                if (work == WakeUp) break; // sequences were submitted: the steps see them before more work runs
            }
            if (!busy)
            {
                // Idle: whatever runs next starts fresh, so a sequence arriving during it owes only that item, not one
                // that finished long before (a model load, a training step before a quiet hour).
                lastWork = 0;
                Run(_queue.Take(), engines: false);
            }
        }

        void Run(Action work, bool engines)
        {
            var at = Stopwatch.GetTimestamp();
            work();
            if (work == WakeUp) return;
            lastWork = Stopwatch.GetTimestamp() - at;
            if (engines) debt += DecodeShare * lastWork;
        }
    }

    /// <summary>Wakes the loop (e.g. after new sequences were queued).</summary>
    public void Wake()
    {
        _submitted.Set();
        _queue.Add(WakeUp);
    }

    /// <summary>Set by <see cref="Wake"/>: new sequences, looked for while decode is owed time after an answer.</summary>
    readonly ManualResetEventSlim _submitted = new(false);

    /// <summary>Longest the device waits, after an answer and with decode time owed, for a next question (Stopwatch ticks).</summary>
    static readonly long NextQuestionWait = Stopwatch.Frequency / 20;

    static readonly Action WakeUp = static () => { };

    /// <summary>Decode time owed per unit of work time while engines run (2: decode gets two thirds of the device).</summary>
    const int DecodeShare = 2;

    /// <summary>Runs a function on the worker thread.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        if (IsCurrent) return Task.FromResult(work());
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
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
        return tcs.Task;
    }

    /// <summary>Runs an action on the worker thread.</summary>
    public Task InvokeAsync(Action work) => InvokeAsync(() =>
    {
        work();
        return true;
    });
}
