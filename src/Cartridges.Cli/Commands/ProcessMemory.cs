// Peak resident memory of this process from /proc (Linux): the kernel's high-water mark can be reset, so one measurement
// sees only its own peak. Where /proc is absent the working set stands in for both.
namespace Cartridges.Cli.Commands;

/// <summary>Process memory high-water marks for benchmarks.</summary>
internal static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) since the process started or the last <see cref="ResetPeak"/>.</summary>
    public static long PeakSinceReset() => Read("VmHWM:") ?? Environment.WorkingSet;

    /// <summary>Current resident set size (VmRSS).</summary>
    public static long Resident() => Read("VmRSS:") ?? Environment.WorkingSet;

    /// <summary>Resets the high-water mark to the current resident size (writes 5 to clear_refs) and returns that size.</summary>
    public static long ResetPeak()
    {
        GC.Collect();
        TrimNativeHeap();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without the reset the peak is the process's own; the growth reported is then a lower bound.
        }
        return Resident();
    }

    // glibc keeps freed blocks (libtorch's CPU tensors among them) mapped for reuse, so a later step reusing them never
    // shows in the high-water mark; returning them to the kernel first makes the peak measure what the step allocates.
    static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl): the peak is then a lower bound, as without the reset.
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    static long? Read(string key)
    {
        if (!File.Exists("/proc/self/status")) return null;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
