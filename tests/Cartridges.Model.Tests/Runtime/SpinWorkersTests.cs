using Cartridges.Model.Runtime;

namespace Cartridges.Model.Tests.Runtime;

public sealed class SpinWorkersTests
{
    sealed class Record(int parts) : IPartedJob
    {
        public readonly int[] Runs = new int[parts];

        public void RunPart(int part, int parts) => Interlocked.Increment(ref Runs[part]);
    }

    sealed class Failing : IPartedJob
    {
        public void RunPart(int part, int parts)
        {
            if (part == parts - 1) throw new InvalidOperationException("part failed");
        }
    }

    [Fact]
    public void Run_RunsEveryPartOnce_AcrossManyJobs_AndAfterTheWorkersSlept()
    {
        var workers = SpinWorkers.Shared;
        var parts = workers.Threads;
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 2000; i++)
            {
                var job = new Record(parts);
                workers.Run(job, parts);
                Assert.All(job.Runs, n => Assert.Equal(1, n));
            }
            Thread.Sleep(20); // past the spin window: the next job has to wake sleeping workers
        }
    }

    [Fact]
    public void Run_RethrowsAWorkersFailure_AndStaysUsable()
    {
        var workers = SpinWorkers.Shared;
        if (workers.Threads < 2) return; // one core: every part runs on the caller, and the exception is the caller's own
        // Another test holding the workers makes this caller run every part itself, so the failure comes unwrapped.
        var e = Assert.ThrowsAny<Exception>(() => workers.Run(new Failing(), workers.Threads));
        Assert.IsType<InvalidOperationException>(e is AggregateException a ? a.InnerException : e);
        var job = new Record(workers.Threads);
        workers.Run(job, workers.Threads);
        Assert.All(job.Runs, n => Assert.Equal(1, n));
    }

    [Fact]
    public void Run_FromConcurrentCallers_RunsEveryPartOfEveryJob()
    {
        var workers = SpinWorkers.Shared;
        var parts = Math.Max(2, workers.Threads);
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            for (var i = 0; i < 500; i++)
            {
                var job = new Record(Math.Min(parts, workers.Threads));
                workers.Run(job, job.Runs.Length);
                Assert.All(job.Runs, n => Assert.Equal(1, n));
            }
        });
    }
}
