namespace Cartridges.Abstractions;

/// <summary>Where a cartridge is in its lifecycle: Untrained → Generating → Training → Serving, or Failed / Stopped.</summary>
public enum CartridgeState
{
    /// <summary>No cartridge by this key exists (never created, or deleted).</summary>
    None = 0,
    /// <summary>Created: spec and corpus stored, nothing computed yet.</summary>
    Untrained = 1,
    /// <summary>Self-study conversations are being synthesized (fanned out over GPU silos).</summary>
    Generating = 2,
    /// <summary>Context distillation is running on the cartridge's silo.</summary>
    Training = 3,
    /// <summary>Trained tensors are stored; questions are answered.</summary>
    Serving = 4,
    /// <summary>A phase failed; see the error. <c>StartAsync</c> retries from the last durable point.</summary>
    Failed = 5,

    /// <summary>Stopped by request while generating or training; what was durable is kept and <c>StartAsync</c> goes on from it.</summary>
    Stopped = 6,
}
