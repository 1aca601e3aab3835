// English templates for records and questions. Every list holds training templates first and held-out templates
// last (HeldOutFrom), so the template split is a fixed partition. Every fact sentence names the patient, and no
// line starts with a value: values always follow a space, so each value is the same single token wherever it
// appears (document, question, answer).
namespace Cartridges.ProvingGround.Records;

/// <summary>Sentence, header, note and question templates, partitioned into training and held-out.</summary>
public static class RecordTemplates
{
    /// <summary>Index from which a list's templates are held out.</summary>
    public static int HeldOutFrom(int count) => count - count / 3;

    /// <summary>Record headers ({name}).</summary>
    public static readonly IReadOnlyList<string> Headers =
        ["Patient {name}.", "Record of {name}.", "Case file: {name}.", "Patient record for {name}.", "File {name}.", "Chart of {name}."];

    /// <summary>Free-text notes ({first}, {s1}, {s2}); never asked about, they are distractor text.</summary>
    public static readonly IReadOnlyList<string> Notes =
    [
        "{first} reported {s1} and {s2} at the last visit.",
        "During the visit {first} mentioned {s1} but no {s2}.",
        "{first} complained of {s1} and mild {s2}.",
        "Nurses noted {s1} in {first}, and {s2} later that week.",
        "{first} described {s1} together with {s2}.",
        "Staff observed {s1} and some {s2} in {first}.",
    ];

    /// <summary>Document title lines.</summary>
    public static readonly IReadOnlyList<string> Titles =
    [
        "Clinical records of the city hospital.", "Patient records and ward notes.", "Hospital case files.",
        "Medical records of admitted patients.", "Records of the regional clinic.", "Summary of patient charts.",
    ];

    /// <summary>Fact sentences per kind.</summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> Facts = new Dictionary<FactKind, IReadOnlyList<string>>
    {
        [FactKind.Number] =
        [
            "{name} has patient number {number}.", "The patient number of {first} is {number}.",
            "{first} is registered under number {number}.", "Record number {number} belongs to {name}.",
            "{name} is filed as patient {number}.", "Under patient number {number} we find {first}.",
        ],
        [FactKind.Birth] =
        [
            "{name} was born on {birth}.", "{first} has a date of birth of {birth}.", "Born on {birth}, {first} lives nearby.",
            "The date of birth of {first} is {birth}.", "{first} came into the world on {birth}.", "{name}, born {birth}, is a regular patient.",
        ],
        [FactKind.Diagnosis] =
        [
            "{first} was diagnosed with {dx}.", "The main diagnosis of {name} is {dx}.", "{name} suffers from {dx}.",
            "{first} is being treated for {dx}.", "Doctors found {dx} in {first}.", "{first} has a confirmed case of {dx}.",
        ],
        [FactKind.Drug] =
        [
            "{first} takes {drug} every day.", "{name} was prescribed {drug}.", "The medication of {first} is {drug}.",
            "{first} receives {drug} daily.", "For treatment, {first} uses {drug}.", "The pharmacy gives {drug} to {name}.",
        ],
        [FactKind.Dose] =
        [
            "The dose of {drug} for {first} is {dose} mg.", "{first} takes {dose} mg of {drug}.",
            "{name} receives {drug} at {dose} mg per day.", "{first} uses {dose} mg of {drug} daily.",
            "The daily {drug} of {first} is set at {dose} mg.", "Each day {first} swallows {dose} mg of {drug}.",
        ],
        [FactKind.DrugStart] =
        [
            "{first} started {drug} on {start}.", "The first {drug} prescription for {first} was on {start}.",
            "Treatment with {drug} for {name} began on {start}.", "{first} has been on {drug} since {start}.",
            "On {start}, {first} began taking {drug}.", "The first dose of {drug} reached {first} on {start}.",
        ],
        [FactKind.Lab] =
        [
            "The {lab} of {first} was {value} {unit}.", "{first} had a {lab} level of {value} {unit}.",
            "Lab tests for {name} showed {lab} at {value} {unit}.", "{first} has a measured {lab} of {value} {unit}.",
            "A {lab} reading of {value} {unit} was taken from {first}.", "For {first}, the lab reported {lab} of {value} {unit}.",
        ],
        [FactKind.Physician] =
        [
            "{first} is under the care of Dr {doctor}.", "The physician of {name} is Dr {doctor}.", "The doctor treating {first} is Dr {doctor}.",
            "{first} sees Dr {doctor} for all visits.", "{name} was referred to Dr {doctor}.", "Responsible for {first} is Dr {doctor}.",
        ],
        [FactKind.Ward] =
        [
            "{first} was admitted to the {ward} ward.", "{name} stays in the {ward} ward.", "The ward of {first} is {ward}.",
            "{first} is cared for in {ward}.", "A bed in {ward} was assigned to {first}.", "{first} was moved to the {ward} unit.",
        ],
        [FactKind.FollowUp] =
        [
            "{first} has a follow-up visit on {followup}.", "The next visit of {name} is on {followup}.",
            "{first} must return on {followup}.", "A follow-up for {first} is planned for {followup}.",
            "{first} was asked to come back on {followup}.", "On {followup}, {name} will be seen again.",
        ],
    };

    /// <summary>Questions per kind ({name}, and {drug}/{lab} where the fact needs them).</summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> Questions = new Dictionary<FactKind, IReadOnlyList<string>>
    {
        [FactKind.Number] = ["What is the patient number of {name}?", "Which patient number does {name} have?", "Give the patient number of {name}.", "Under which number is {name} registered?"],
        [FactKind.Birth] = ["When was {name} born?", "What is the date of birth of {name}?", "On what date was {name} born?", "What is the birth date of {name}?"],
        [FactKind.Diagnosis] = ["What was {name} diagnosed with?", "What is the main diagnosis of {name}?", "Which condition does {name} have?", "What illness is {name} treated for?"],
        [FactKind.Drug] = ["Which medication was {name} prescribed?", "What drug does {name} take?", "What is the medication of {name}?", "Which medicine is {name} on?"],
        [FactKind.Dose] = ["What dose of {drug} does {name} take?", "How much {drug} does {name} receive?", "What is the dose of {drug} for {name}?", "How many mg of {drug} does {name} get?"],
        [FactKind.DrugStart] = ["When did {name} start {drug}?", "On what date did {name} begin {drug}?", "Since when has {name} taken {drug}?", "When was {drug} first given to {name}?"],
        [FactKind.Lab] = ["What was the {lab} of {name}?", "What {lab} level did {name} have?", "What is the measured {lab} of {name}?", "Which {lab} value was recorded for {name}?"],
        [FactKind.Physician] = ["Who is the physician of {name}?", "Which doctor treats {name}?", "Who cares for {name}?", "Who is the attending doctor of {name}?"],
        [FactKind.Ward] = ["Which ward is {name} in?", "In which ward does {name} stay?", "What ward was {name} admitted to?", "Where is {name} being cared for?"],
        [FactKind.FollowUp] = ["When is the follow-up visit of {name}?", "When must {name} return?", "On what date is the next visit of {name}?", "When will {name} be seen again?"],
    };

    /// <summary>Indices of a list's templates that a split may use.</summary>
    public static (int Start, int End) Range(int count, RecordSplit split) =>
        split == RecordSplit.HeldOutTemplates ? (HeldOutFrom(count), count) : (0, HeldOutFrom(count));

    /// <summary>The question templates of documents worded in <paramref name="style"/>.</summary>
    public static IReadOnlyDictionary<FactKind, IReadOnlyList<string>> QuestionsFor(FactStyle style) =>
        style.IsKeyed() ? KeyedTemplates.QuestionsFor(style) : Questions;

    /// <summary>Fills {key} placeholders of a template with a record's values.</summary>
    public static string Fill(string template, PatientRecord r) => template
        .Replace("{name}", r.Name, StringComparison.Ordinal)
        .Replace("{first}", r.First, StringComparison.Ordinal)
        .Replace("{last}", r.Last, StringComparison.Ordinal)
        .Replace("{number}", r.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{birth}", r.Birth.ToString(), StringComparison.Ordinal)
        .Replace("{dx}", r.Diagnosis, StringComparison.Ordinal)
        .Replace("{drug}", r.Drug, StringComparison.Ordinal)
        .Replace("{dose}", r.DoseMg.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{start}", r.DrugStart.ToString(), StringComparison.Ordinal)
        .Replace("{lab}", r.Lab.Test, StringComparison.Ordinal)
        .Replace("{value}", r.Lab.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{unit}", r.Lab.Unit, StringComparison.Ordinal)
        .Replace("{doctor}", r.Physician, StringComparison.Ordinal)
        .Replace("{ward}", r.Ward, StringComparison.Ordinal)
        .Replace("{followup}", r.FollowUp.ToString(), StringComparison.Ordinal)
        .Replace("{s1}", r.Symptoms.A, StringComparison.Ordinal)
        .Replace("{s2}", r.Symptoms.B, StringComparison.Ordinal);

    /// <summary>The exact short answer to a question of this kind about a record.</summary>
    public static string Answer(FactKind kind, PatientRecord r) => kind switch
    {
        FactKind.Number => r.Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
        FactKind.Birth => r.Birth.ToString(),
        FactKind.Diagnosis => r.Diagnosis,
        FactKind.Drug => r.Drug,
        FactKind.Dose => $"{r.DoseMg} mg",
        FactKind.DrugStart => r.DrugStart.ToString(),
        FactKind.Lab => $"{r.Lab.Value} {r.Lab.Unit}",
        FactKind.Physician => $"Dr {r.Physician}",
        FactKind.Ward => r.Ward,
        FactKind.FollowUp => r.FollowUp.ToString(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown fact kind"),
    };
}
