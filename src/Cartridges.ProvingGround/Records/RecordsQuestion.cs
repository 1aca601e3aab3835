// A question about one record of a document: open form with an exact short answer, plus a 5-option
// multiple-choice form whose distractors are values of the same kind.
namespace Cartridges.ProvingGround.Records;

/// <summary>A question, its exact answer and its multiple-choice form.</summary>
/// <param name="Kind">The fact asked for.</param>
/// <param name="Record">Index of the record in its document.</param>
/// <param name="Template">Index of the question template used.</param>
/// <param name="Text">The question.</param>
/// <param name="Answer">The exact short answer: the value (present verbatim in the document), or for keyed-name-next documents the surname then the value.</param>
/// <param name="Choices">Five options, one of them the answer.</param>
/// <param name="CorrectChoice">Index of the answer among the choices.</param>
public sealed record RecordsQuestion(FactKind Kind, int Record, int Template, string Text, string Answer, IReadOnlyList<string> Choices, int CorrectChoice)
{
    /// <summary>Letters of the options.</summary>
    public static readonly IReadOnlyList<string> Letters = ["A", "B", "C", "D", "E"];

    /// <summary>The multiple-choice prompt: the question, then one "X) option" line per choice.</summary>
    public string MultipleChoiceText =>
        Text + "\n" + string.Join("\n", Choices.Select((c, i) => $"{Letters[i]}) {c}")) + "\nAnswer with one letter.";

    /// <summary>The letter of the correct option.</summary>
    public string CorrectLetter => Letters[CorrectChoice];
}
