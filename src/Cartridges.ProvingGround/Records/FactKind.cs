// The facts a question can ask for; each has sentence templates (RecordTemplates) and question templates.
namespace Cartridges.ProvingGround.Records;

/// <summary>Kinds of fact stated in a record and asked about.</summary>
public enum FactKind
{
    /// <summary>Patient number.</summary>
    Number,
    /// <summary>Date of birth.</summary>
    Birth,
    /// <summary>Main diagnosis.</summary>
    Diagnosis,
    /// <summary>Prescribed medication.</summary>
    Drug,
    /// <summary>Dose of the medication.</summary>
    Dose,
    /// <summary>Start date of the medication.</summary>
    DrugStart,
    /// <summary>Lab value.</summary>
    Lab,
    /// <summary>Attending physician.</summary>
    Physician,
    /// <summary>Ward.</summary>
    Ward,
    /// <summary>Follow-up date.</summary>
    FollowUp,
}
