// How fact sentences are worded. Varied is the default data; NameFirst is the candidate fix for the binding problem
// found by the GPU sweep (docs/pretraining.md): the patient's full name opens every fact sentence, a short phrase
// of the fact's kind follows and then the value, so a causal model can attach the name to the value as it reads it.
namespace Cartridges.ProvingGround.Records;

/// <summary>Wording of the fact sentences of a document.</summary>
public enum FactStyle
{
    /// <summary>Six varied templates per fact; the name may come before or after the value, as first or full name.</summary>
    Varied,

    /// <summary>Six templates per fact, each "{full name} {kind phrase} {value}".</summary>
    NameFirst,

    /// <summary>Three templates per fact, each "{surname} {attribute} {value}" (one-token keys; no free-text notes).</summary>
    Keyed,

    /// <summary>
    /// Keyed with the two key tokens swapped, "{attribute} {surname} {value}": the surname, which tells records apart,
    /// sits right before the value (the one-token key an induction head matches), the attribute one token further back.
    /// </summary>
    KeyedNameNext,
}

/// <summary>Helpers over <see cref="FactStyle"/>.</summary>
public static class FactStyles
{
    /// <summary>Whether documents of this style are keyed (one-token surname and attribute keys, recall drills apply).</summary>
    public static bool IsKeyed(this FactStyle style) => style is FactStyle.Keyed or FactStyle.KeyedNameNext;
}
