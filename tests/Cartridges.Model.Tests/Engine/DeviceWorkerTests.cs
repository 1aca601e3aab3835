using System.Collections.Concurrent;
using Cartridges.Model.Engine;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Engine;

/// <summary>How the device thread shares itself between decode steps and posted work.</summary>
public sealed class DeviceWorkerTests
{
    /// <summary>A stand-in engine: each step "decodes" one token of the current answer for 2 ms.</summary>
    sealed class FakeEngine
    {
        readonly DeviceWorker _worker;
        readonly ConcurrentQueue<string> _log;
        readonly ManualResetEventSlim _firstAnswer = new(false);
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

        public bool Step()
        {
            if (Volatile.Read(ref _pending) == 0) return false;
            Thread.Sleep(2);
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

        // 150 ms of work with a question arriving meanwhile: decode is then owed 300 ms, of which the 40-token
        // answer takes about 80.
        var first = worker.InvokeAsync(() =>
        {
            Thread.Sleep(150);
            log.Enqueue("work1");
        });
        await Task.Delay(30);
        engine.Ask(40);
        await first;
        var second = worker.InvokeAsync(() => log.Enqueue("work2")); // queued while the answer decodes
        await second.WaitAsync(TimeSpan.FromSeconds(30));

        // The next question came 1 ms after the answer, while decode was still owed time: it is answered before the
        // queued work runs; once no question follows, the queued work runs.
        Assert.Equal(["work1", "answer1", "answer2", "work2"], log.ToArray());
    }
}
