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

    /// <summary>
    /// Free-text notes of keyed documents ({s1}, {s2}: symptoms): no name, no attribute word and no value of any kind, so
    /// they lengthen a document (the density of real records) without adding a key a question could match. Every word
    /// is one token of the records vocabulary.
    /// </summary>
    public static readonly IReadOnlyList<string> Notes =
    [
        "Nurses noted {s1} and {s2} at the last visit of the week.",
        "During the last visit the patient mentioned {s1} but no {s2}.",
        "The patient complained of {s1} and mild {s2} later that week.",
        "Staff observed {s1} together with some {s2} at the visit.",
        "The patient described {s1} and {s2} at the last visit.",
        "Nurses reported {s1}, and mild {s2} was noted later that week.",
    ];

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

    /// <summary>The value part of each kind's fact, exactly as answers write it.</summary>
    static readonly IReadOnlyDictionary<FactKind, string> Values = new Dictionary<FactKind, string>
    {
        [FactKind.Number] = "{number}",
        [FactKind.Birth] = "{birth}",
        [FactKind.Diagnosis] = "{dx}",
        [FactKind.Drug] = "{drug}",
        [FactKind.Dose] = "{dose} mg",
        [FactKind.DrugStart] = "{start}",
        [FactKind.Lab] = "{value} {unit}",
        [FactKind.Physician] = "Dr {doctor}",
        [FactKind.Ward] = "{ward}",
        [FactKind.FollowUp] = "{followup}",
    };

    /// <summary>Fact sentences per kind, "{surname} {attribute} {value}" (the third, held out, with a comma after the surname).</summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> Facts = Enum.GetValues<FactKind>().ToDictionary(
        kind => kind,
        kind => (IReadOnlyList<string>)[$"{{last}} {Attributes[kind]} {Values[kind]}.", $"{{last}} {Attributes[kind]} {Values[kind]};", $"{{last}}, {Attributes[kind]} {Values[kind]}."]);

    /// <summary>Fact sentences per kind for <see cref="FactStyle.KeyedNameNext"/>, "{attribute} {surname} {value}" (the third, held out, with a comma after the attribute).</summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> NameNextFacts = Enum.GetValues<FactKind>().ToDictionary(
        kind => kind,
        kind => (IReadOnlyList<string>)[$"{Attributes[kind]} {{last}} {Values[kind]}.", $"{Attributes[kind]} {{last}} {Values[kind]};", $"{Attributes[kind]}, {{last}} {Values[kind]}."]);

    /// <summary>The fact sentences of a keyed style.</summary>
    public static IReadOnlyDictionary<FactKind, IReadOnlyList<string>> FactsFor(FactStyle style) => style == FactStyle.KeyedNameNext ? NameNextFacts : Facts;

    /// <summary>The key of a fact as documents of <paramref name="style"/> write it: " {surname} {attribute}" or " {attribute} {surname}".</summary>
    public static string Key(FactKind kind, PatientRecord r, FactStyle style = FactStyle.Keyed) =>
        " " + RecordTemplates.Fill(style == FactStyle.KeyedNameNext ? Attributes[kind] + " {last}" : "{last} " + Attributes[kind], r);

    /// <summary>
    /// Questions per kind: two training wordings that use the fact's own attribute word (so asking is matching the
    /// document's key), then one of the varied data's natural questions, held out, to see how far reading carries
    /// to wording it was not trained on.
    /// </summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> Questions = Enum.GetValues<FactKind>().ToDictionary(
        kind => kind,
        kind => (IReadOnlyList<string>)[QuestionFor(kind), $"Patient {{last}} {Attributes[kind]}?", RecordTemplates.Questions[kind][0].Replace("{name}", "{last}", StringComparison.Ordinal)]);

    /// <summary>
    /// Questions per kind for <see cref="FactStyle.KeyedNameNext"/>: two training wordings that end with the document's
    /// key (" {attribute} {surname}" and one punctuation token), so the reply, which starts with the surname (see
    /// <see cref="RestatedAnswer"/>), copies it from a fixed distance back; then the natural question, held out.
    /// </summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> NameNextQuestions = Enum.GetValues<FactKind>().ToDictionary(
        kind => kind,
        kind => (IReadOnlyList<string>)[$"Look up {Attributes[kind]} {{last}}.", $"What is {Attributes[kind]} {{last}}?", RecordTemplates.Questions[kind][0].Replace("{name}", "{last}", StringComparison.Ordinal)]);

    /// <summary>The question templates of a keyed style.</summary>
    public static IReadOnlyDictionary<FactKind, IReadOnlyList<string>> QuestionsFor(FactStyle style) => style == FactStyle.KeyedNameNext ? NameNextQuestions : Questions;

    /// <summary>
    /// The reply to a <see cref="FactStyle.KeyedNameNext"/> question: the patient's surname, then the value
    /// ("Rossi 417"). The surname is copied from the end of the question, a fixed distance back; it then sits right
    /// before the value exactly as in the document, so the value is read the way a recall drill reads it instead of
    /// across the chat markup between question and reply (which a two-layer model did not learn in 10 M tokens).
    /// Restating the attribute too would not do: after " number" every surname of the document is a candidate.
    /// </summary>
    public static string RestatedAnswer(FactKind kind, PatientRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return r.Last + " " + RecordTemplates.Answer(kind, r);
    }

    static string QuestionFor(FactKind kind) => kind switch
    {
        FactKind.Birth => "When was {last} born?",
        FactKind.DrugStart => "When has {last} started?",
        FactKind.Physician => "Who is the physician of {last}?",
        FactKind.FollowUp => "When is the visit of {last}?",
        _ => $"What is the {Attributes[kind]} of {{last}}?",
    };
}
