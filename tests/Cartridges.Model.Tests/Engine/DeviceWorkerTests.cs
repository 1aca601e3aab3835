using System.Collections.Concurrent;
using Cartridges.Model.Engine;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Engine;

/// <summary>How the device thread shares itself between decode steps and posted work.</summary>
public sealed class DeviceWorkerTests
{
    /// <summary>A stand-in engine: each step "decodes" one token of the current answer, once the test lets it.</summary>
    sealed class FakeEngine
    {
        readonly DeviceWorker _worker;
        readonly ConcurrentQueue<string> _log;
        readonly ManualResetEventSlim _firstAnswer = new(false);
        readonly ManualResetEventSlim _released = new(false);
        int _pending;
        int _answers;

        /// <summary>Starts the client that asks its next question 1 ms after the first answer (a chat's next turn).</summary>
        public FakeEngine(DeviceWorker worker, ConcurrentQueue<string> log)
        {
            (_worker, _log) = (worker, log);
            new Thread(() =>
            {
                _firstAnswer.Wait();
                Thread.Sleep(1);
                Ask(5);
            })
            { IsBackground = true }.Start();
        }

        public void Ask(int tokens)
        {
            Interlocked.Exchange(ref _pending, tokens);
            _worker.Wake();
        }

        /// <summary>Lets the steps run.</summary>
        public void Release() => _released.Set();

        public bool Step()
        {
            if (Volatile.Read(ref _pending) == 0) return false;
            _released.Wait(); // holds the first answer until the test has queued its work
            if (Interlocked.Decrement(ref _pending) > 0) return true;
            _log.Enqueue($"answer{++_answers}");
            if (_answers == 1) _firstAnswer.Set();
            return false;
        }
    }

    [Fact]
    public async Task QuestionRightAfterAnAnswer_KeepsTheDecodeTimeStillOwed_BeforeQueuedWork()
    {
        var worker = DeviceWorker.For(new Device(TorchSharp.DeviceType.CPU, 7)); // a worker no other test uses
        var log = new ConcurrentQueue<string>();
        var engine = new FakeEngine(worker, log);
        using var registration = worker.AddStep(engine.Step, _ => { });

        // A second of work with a question arriving meanwhile: decode is then owed two seconds, far more than the
        // answer takes even on a loaded host (its steps wait only for the test to have queued the next work item).
        var first = worker.InvokeAsync(() =>
        {
            Thread.Sleep(1000);
            engine.Ask(40);
            log.Enqueue("work1");
        });
        await first;
        var second = worker.InvokeAsync(() => log.Enqueue("work2")); // queued while the answer decodes
        engine.Release();
        await second.WaitAsync(TimeSpan.FromSeconds(30));

        // The next question came 1 ms after the answer, while decode was still owed time: it is answered before the
        // queued work runs; once no question follows, the queued work runs.
        Assert.Equal(["work1", "answer1", "answer2", "work2"], log.ToArray());
    }
}
