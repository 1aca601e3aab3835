// Worker threads for the few-row products of a decode step, which come every 10-100 µs and last 5-500 µs each.
// The .NET thread pool wakes its workers through the kernel: measured here, Parallel.For over 2 threads cost 10-15 µs
// per call and took longer than one thread for 40 µs of work. These workers instead spin on a generation counter for a
// while after each job (as llama.cpp's and OpenMP's threads do), so the next job of the step starts on them at once,
// and sleep on an event when no job has come for a millisecond, so an idle engine takes no CPU.
namespace Cartridges.Model.Runtime;

/// <summary>A job split into parts; part i runs on thread i (the caller runs part 0).</summary>
internal interface IPartedJob
{
    /// <summary>Runs one part of <paramref name="parts"/>.</summary>
    void RunPart(int part, int parts);
}

/// <summary>A small set of spinning worker threads shared by the process, used by one caller at a time.</summary>
internal sealed class SpinWorkers
{
    static readonly Lazy<SpinWorkers> Instance = new(() => new SpinWorkers(Math.Max(0, Environment.ProcessorCount - 1)));

    /// <summary>One worker per core beyond the caller's.</summary>
    public static SpinWorkers Shared => Instance.Value;

    static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 1000; // 1 ms

    readonly Worker[] _workers;
    readonly object _gate = new();
    IPartedJob? _job;
    int _parts;
    long _generation;
    int _pending;
    Exception? _failure;

    SpinWorkers(int workers)
    {
        _workers = new Worker[workers];
        for (var i = 0; i < workers; i++)
        {
            _workers[i] = new Worker(this, i + 1);
            new Thread(_workers[i].Loop) { IsBackground = true, Name = $"cartridges-spin-{i + 1}" }.Start();
        }
    }

    /// <summary>Threads a job can use: the caller and every worker.</summary>
    public int Threads => _workers.Length + 1;

    /// <summary>
    /// Runs the job's <paramref name="parts"/> parts (at most <see cref="Threads"/>) and returns when all are done.
    /// When another caller holds the workers, every part runs on this thread instead.
    /// </summary>
    public void Run(IPartedJob job, int parts)
    {
        parts = Math.Clamp(parts, 1, Threads);
        if (parts == 1 || !Monitor.TryEnter(_gate))
        {
            for (var p = 0; p < parts; p++) job.RunPart(p, parts);
            return;
        }
        try
        {
            (_job, _parts, _failure) = (job, parts, null);
            Volatile.Write(ref _pending, parts - 1);
            Interlocked.Increment(ref _generation); // publishes the job (full fence) before the sleepers are read
            for (var w = 0; w < parts - 1; w++)
                if (Volatile.Read(ref _workers[w].Sleeping) == 1) _workers[w].Wake.Set();
            Exception? own = null;
            try
            {
                job.RunPart(0, parts);
            }
            catch (Exception e)
            {
                own = e; // the workers still hold this job: wait for them before the next one can be published
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
            _job = null;
            var failures = new[] { own, _failure }.OfType<Exception>().ToArray();
            if (failures.Length > 0) throw new AggregateException(failures);
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    sealed class Worker(SpinWorkers owner, int part)
    {
        public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
        public int Sleeping;

        public void Loop()
        {
            // Generation 0 is "no job yet": reading the counter here instead would skip a job published before
            // this thread first ran, and its caller would wait for it forever.
            long seen = 0;
            while (true)
            {
                var idleSince = System.Diagnostics.Stopwatch.GetTimestamp();
                long generation;
                while ((generation = Volatile.Read(ref owner._generation)) == seen)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - idleSince < SpinTicks)
                    {
                        Thread.SpinWait(16);
                        continue;
                    }
                    // Announce the sleep, then look again (full fence between): a job published after the look sees
                    // Sleeping = 1 and sets Wake, one published before it is seen here.
                    Interlocked.Exchange(ref Sleeping, 1);
                    if (Volatile.Read(ref owner._generation) == seen) Wake.Wait();
                    Wake.Reset();
                    Volatile.Write(ref Sleeping, 0);
                    idleSince = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                seen = generation;
                if (part >= owner._parts) continue;
                try
                {
                    owner._job!.RunPart(part, owner._parts);
                }
                catch (Exception e)
                {
                    owner._failure = e;
                }
                Interlocked.Decrement(ref owner._pending);
            }
        }
    }
}
