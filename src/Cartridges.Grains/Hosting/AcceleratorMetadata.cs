// Silo metadata is static and gossiped by Orleans (UseSiloMetadata); these are the keys the placement code reads.
using System.Globalization;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Cartridges.Grains.Hosting;

/// <summary>Silo metadata keys that mark accelerator silos and their device memory.</summary>
public static class AcceleratorMetadata
{
    /// <summary>"true" on silos that run model engines.</summary>
    public const string Gpu = "gpu";

    /// <summary>Accelerator memory in bytes.</summary>
    public const string DeviceMemory = "device_memory_bytes";

    /// <summary>Whether the silo described by <paramref name="metadata"/> is an accelerator silo.</summary>
    public static bool IsAccelerator(SiloMetadata? metadata) =>
        metadata is not null && metadata.Metadata.TryGetValue(Gpu, out var v) && IsTrue(v);

    /// <summary>Whether a silo configured with this value for the <see cref="Gpu"/> key is an accelerator silo.</summary>
    public static bool IsTrue(string? gpuValue) => string.Equals(gpuValue, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Declared accelerator memory in bytes (0 when not declared).</summary>
    public static long DeviceMemoryBytes(SiloMetadata? metadata) =>
        metadata is not null && metadata.Metadata.TryGetValue(DeviceMemory, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes)
            ? bytes
            : 0;

    /// <summary>
    /// Memory to declare when configuration names none: what this process may use on this machine (physical memory or
    /// the container's limit). Right for CPU engines; a CUDA silo should declare its card's memory.
    /// </summary>
    public static long DetectedMemoryBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}
