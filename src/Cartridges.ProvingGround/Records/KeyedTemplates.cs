// Fact sentences of FactStyle.Keyed, the data on which binding is cheap: every fact is "{surname} {attribute} {value}."
// with a one-token key for the patient (the surname, unique within a document), a one-token attribute and the value
// right after them, so reading a fact is matching two adjacent tokens and copying the next one. The third template
// of each kind (a comma after the surname) is held out, as the last third of every template list is.
namespace Cartridges.ProvingGround.Records;

/// <summary>Keyed fact templates.</summary>
public static class KeyedTemplates
{
    /// <summary>Record headers ({last}).</summary>
    public static readonly IReadOnlyList<string> Headers = ["Patient {last}.", "Record {last}.", "File {last}."];

    /// <summary>The one-word attribute of each kind (the lab's own name for lab values).</summary>
    public static readonly IReadOnlyDictionary<FactKind, string> Attributes = new Dictionary<FactKind, string>
    {
        [FactKind.Number] = "number",
        [FactKind.Birth] = "born",
        [FactKind.Diagnosis] = "diagnosis",
        [FactKind.Drug] = "medication",
        [FactKind.Dose] = "dose",
        [FactKind.DrugStart] = "started",
        [FactKind.Lab] = "{lab}",
        [FactKind.Physician] = "physician",
        [FactKind.Ward] = "ward",
        [FactKind.FollowUp] = "visit",
    };

    /// <summary>Fact sentences per kind: the attribute, then the value exactly as answers write it.</summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> Facts = new Dictionary<FactKind, IReadOnlyList<string>>
    {
        [FactKind.Number] = Keyed("number {number}"),
        [FactKind.Birth] = Keyed("born {birth}"),
        [FactKind.Diagnosis] = Keyed("diagnosis {dx}"),
        [FactKind.Drug] = Keyed("medication {drug}"),
        [FactKind.Dose] = Keyed("dose {dose} mg"),
        [FactKind.DrugStart] = Keyed("started {start}"),
        [FactKind.Lab] = Keyed("{lab} {value} {unit}"),
        [FactKind.Physician] = Keyed("physician Dr {doctor}"),
        [FactKind.Ward] = Keyed("ward {ward}"),
        [FactKind.FollowUp] = Keyed("visit {followup}"),
    };

    /// <summary>The key of a fact as documents write it: " {surname} {attribute}".</summary>
    public static string Key(FactKind kind, PatientRecord r) => " " + RecordTemplates.Fill("{last} " + Attributes[kind], r);

    static IReadOnlyList<string> Keyed(string attributeAndValue) =>
        [$"{{last}} {attributeAndValue}.", $"{{last}} {attributeAndValue};", $"{{last}}, {attributeAndValue}."];

    /// <summary>
    /// Questions per kind: two training wordings that use the fact's own attribute word (so asking is matching the
    /// document's key), then one of the varied data's natural questions, held out, to see how far reading carries
    /// to wording it was not trained on.
    /// </summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> Questions = Enum.GetValues<FactKind>().ToDictionary(
        kind => kind,
        kind => (IReadOnlyList<string>)[QuestionFor(kind), $"Patient {{last}} {Attributes[kind]}?", RecordTemplates.Questions[kind][0].Replace("{name}", "{last}", StringComparison.Ordinal)]);

    static string QuestionFor(FactKind kind) => kind switch
    {
        FactKind.Birth => "When was {last} born?",
        FactKind.DrugStart => "When has {last} started?",
        FactKind.Physician => "Who is the physician of {last}?",
        FactKind.FollowUp => "When is the visit of {last}?",
        _ => $"What is the {Attributes[kind]} of {{last}}?",
    };
}
