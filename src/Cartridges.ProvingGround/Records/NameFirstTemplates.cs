// Fact sentences of FactStyle.NameFirst: the full name, a few words naming the fact's kind, then the value. The
// last third of each list is held out, as for the varied templates. Words are those of the varied templates, so
// the records vocabulary covers them.
namespace Cartridges.ProvingGround.Records;

/// <summary>Name-first fact templates.</summary>
public static class NameFirstTemplates
{
    /// <summary>Fact sentences per kind.</summary>
    public static readonly IReadOnlyDictionary<FactKind, IReadOnlyList<string>> Facts = new Dictionary<FactKind, IReadOnlyList<string>>
    {
        [FactKind.Number] =
        [
            "{name} has patient number {number}.", "{name} is filed as patient {number}.", "{name} is registered under number {number}.",
            "{name} has the patient number {number}.", "{name} is patient number {number}.", "{name} is under patient number {number}.",
        ],
        [FactKind.Birth] =
        [
            "{name} was born on {birth}.", "{name} has a date of birth of {birth}.", "{name} came into the world on {birth}.",
            "{name} has the date of birth {birth}.", "{name} was born {birth}.", "{name}, born {birth}, is a regular patient.",
        ],
        [FactKind.Diagnosis] =
        [
            "{name} was diagnosed with {dx}.", "{name} suffers from {dx}.", "{name} is being treated for {dx}.",
            "{name} has a confirmed case of {dx}.", "{name} is treated for {dx}.", "{name} has the main diagnosis {dx}.",
        ],
        [FactKind.Drug] =
        [
            "{name} takes {drug} every day.", "{name} was prescribed {drug}.", "{name} receives {drug} daily.",
            "{name} uses {drug} daily.", "{name} is on {drug}.", "{name} takes the medication {drug}.",
        ],
        [FactKind.Dose] =
        [
            "{name} takes {dose} mg of {drug}.", "{name} receives {dose} mg of {drug} per day.", "{name} uses {dose} mg of {drug} daily.",
            "{name} swallows {dose} mg of {drug} every day.", "{name} is on {dose} mg of {drug}.", "{name} takes {dose} mg of {drug} daily.",
        ],
        [FactKind.DrugStart] =
        [
            "{name} started {drug} on {start}.", "{name} has been on {drug} since {start}.", "{name} began taking {drug} on {start}.",
            "{name} started taking {drug} on {start}.", "{name} has taken {drug} since {start}.", "{name} began {drug} on {start}.",
        ],
        [FactKind.Lab] =
        [
            "{name} had a {lab} level of {value} {unit}.", "{name} has a measured {lab} of {value} {unit}.", "{name} showed {lab} at {value} {unit}.",
            "{name} had {lab} of {value} {unit}.", "{name} has a {lab} of {value} {unit}.", "{name} had a {lab} reading of {value} {unit}.",
        ],
        [FactKind.Physician] =
        [
            "{name} is under the care of Dr {doctor}.", "{name} sees Dr {doctor} for all visits.", "{name} was referred to Dr {doctor}.",
            "{name} is in the care of Dr {doctor}.", "{name} sees Dr {doctor}.", "{name} was referred to the care of Dr {doctor}.",
        ],
        [FactKind.Ward] =
        [
            "{name} stays in the {ward} ward.", "{name} was admitted to the {ward} ward.", "{name} is cared for in {ward}.",
            "{name} was moved to the {ward} unit.", "{name} is in the {ward} ward.", "{name} stays in {ward}.",
        ],
        [FactKind.FollowUp] =
        [
            "{name} has a follow-up visit on {followup}.", "{name} must return on {followup}.", "{name} was asked to come back on {followup}.",
            "{name} will be seen again on {followup}.", "{name} has the next visit on {followup}.", "{name} must come back on {followup}.",
        ],
    };
}
