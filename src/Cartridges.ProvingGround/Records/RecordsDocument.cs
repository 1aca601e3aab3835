// A generated document: its records (the ground truth) and its rendered text.
namespace Cartridges.ProvingGround.Records;

/// <summary>A records document.</summary>
/// <param name="Id">Stable id, e.g. "train-000042".</param>
/// <param name="Split">The split it belongs to.</param>
/// <param name="Records">The patients, in document order.</param>
/// <param name="Text">The rendered document.</param>
/// <param name="Kinds">The fact kinds every record states (null: all of them).</param>
public sealed record RecordsDocument(string Id, RecordSplit Split, IReadOnlyList<PatientRecord> Records, string Text, IReadOnlyList<FactKind>? Kinds = null)
{
    /// <summary>The fact kinds the document states about each patient, in enum order.</summary>
    public IReadOnlyList<FactKind> FactKinds => Kinds ?? Enum.GetValues<FactKind>();
}
