// A decode step (one to eight rows) on the CPU has two kinds of threads that could run it: libtorch's OpenMP team and
// FewRowLinear's spin workers. Both spin after their work, so with both active on the same cores each waits on
// threads the other has kept from running: measured on the small preset at batch 1 on 2 cores, forward and logits
// took 45 ms with libtorch at 2 threads and the workers on 2, against 12 ms with libtorch at 1 thread and the workers
// on 2 (the libtorch ops of such a step are a few microseconds each; its projections are where the threads pay off).
// So a few-row pass runs libtorch on the calling thread only and hands the projections to the workers. libtorch's
// thread count is per calling thread (OpenMP and MKL keep it per thread), so the switch does not reach other callers;
// setting it costs well under a microsecond.
using static TorchSharp.torch;

namespace Cartridges.Model.Runtime;

/// <summary>While alive, libtorch runs on one intra-op thread here and few-row projections use the threads it had.</summary>
internal readonly struct FewRowThreads : IDisposable
{
    /// <summary>libtorch's intra-op threads on this thread outside the scope; 0 outside any scope.</summary>
    [ThreadStatic] static int t_outer;

    readonly int _restore;

    FewRowThreads(int restore) => _restore = restore;

    /// <summary>Threads a few-row projection may use on this thread: libtorch's count outside the scope, within the workers'.</summary>
    public static int ProjectionThreads => Math.Min(t_outer > 0 ? t_outer : get_num_threads(), SpinWorkers.Shared.Threads);

    /// <summary>Switches libtorch to one thread when <paramref name="applies"/> (a float32 CPU pass of few rows).</summary>
    public static FewRowThreads Enter(bool applies)
    {
        if (!applies || t_outer > 0) return default;
        var threads = get_num_threads();
        if (threads <= 1) return default;
        t_outer = threads;
        set_num_threads(1);
        return new FewRowThreads(threads);
    }

    /// <summary>Gives libtorch its threads back.</summary>
    public void Dispose()
    {
        if (_restore == 0) return;
        set_num_threads(_restore);
        t_outer = 0;
    }
}
