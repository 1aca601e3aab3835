// One patient of a records document: the facts questions ask about. Plain data; rendering lives in RecordTemplates.
namespace Cartridges.ProvingGround.Records;

/// <summary>A calendar date rendered as "12 March 1961" (three tokens: day, month, year).</summary>
public readonly record struct RecordDate(int Day, int Month, int Year)
{
    /// <summary>The date as written in documents and expected in answers.</summary>
    public override string ToString() => $"{Day} {RecordPools.Months[Month - 1]} {Year}";

    /// <summary>A uniform day of a uniform month of a year in [minYear, maxYear] (days 1..28 keep every month valid).</summary>
    public static RecordDate Sample(Random rng, int minYear, int maxYear) =>
        new(rng.Next(1, 29), rng.Next(1, 13), rng.Next(minYear, maxYear + 1));
}

/// <summary>A lab result of a patient.</summary>
public sealed record LabResult(string Test, int Value, string Unit);

/// <summary>A patient and every fact the generator can ask about.</summary>
public sealed record PatientRecord
{
    /// <summary>First name.</summary>
    public required string First { get; init; }

    /// <summary>Surname.</summary>
    public required string Last { get; init; }

    /// <summary>Patient number (three digits).</summary>
    public required int Number { get; init; }

    /// <summary>Date of birth.</summary>
    public required RecordDate Birth { get; init; }

    /// <summary>Main diagnosis.</summary>
    public required string Diagnosis { get; init; }

    /// <summary>Prescribed medication.</summary>
    public required string Drug { get; init; }

    /// <summary>Daily dose in mg.</summary>
    public required int DoseMg { get; init; }

    /// <summary>When the medication was started.</summary>
    public required RecordDate DrugStart { get; init; }

    /// <summary>A lab result.</summary>
    public required LabResult Lab { get; init; }

    /// <summary>Attending physician's surname.</summary>
    public required string Physician { get; init; }

    /// <summary>Ward of admission.</summary>
    public required string Ward { get; init; }

    /// <summary>Date of the next follow-up visit (a second date per record, so dates need the right key).</summary>
    public required RecordDate FollowUp { get; init; }

    /// <summary>Two symptoms mentioned in the free-text note.</summary>
    public required (string A, string B) Symptoms { get; init; }

    /// <summary>"First Last".</summary>
    public string Name => $"{First} {Last}";
}
