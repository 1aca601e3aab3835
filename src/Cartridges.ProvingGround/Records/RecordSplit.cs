// Train / held-out splits. Documents of different splits come from disjoint seed streams; the template split
// additionally renders with sentence and question templates never used in training.
namespace Cartridges.ProvingGround.Records;

/// <summary>Which documents and templates a sample comes from.</summary>
public enum RecordSplit
{
    /// <summary>Training documents, training templates.</summary>
    Train,
    /// <summary>Held-out documents, training templates (the quality target's split).</summary>
    HeldOut,
    /// <summary>Held-out documents rendered with held-out templates only (phrasing generalisation).</summary>
    HeldOutTemplates,
}
