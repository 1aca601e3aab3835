// Self-study steps 2-3 (method §3.2-3.3): the seed prompt that tells participant A what kind of message to
// write. Five families sampled uniformly (structuring, summarisation, question, use case, creative); a single
// generic seed is kept for the ablation the paper reports (five families beat it). With probability 0.2 a
// chain-of-thought instruction is appended to A's message before B answers it. All wording is our own.
namespace Cartridges.Training.Synthesis;

/// <summary>The kinds of seed prompt.</summary>
public enum SeedPromptFamily
{
    /// <summary>Ask for part of the corpus restructured into a format, keeping exact facts.</summary>
    Structuring,
    /// <summary>Ask for a summary of part of the corpus.</summary>
    Summarization,
    /// <summary>Ask a question that tests knowledge of the corpus.</summary>
    Question,
    /// <summary>Ask for a realistic downstream task that uses the corpus.</summary>
    UseCase,
    /// <summary>Ask for something creative grounded in the corpus.</summary>
    Creative,
    /// <summary>The single generic seed of the ablation.</summary>
    Generic,
}

/// <summary>One sampled seed prompt.</summary>
public sealed record SeedPrompt(SeedPromptFamily Family, string Text);

/// <summary>Seed prompt and chain-of-thought wordings, and their sampling.</summary>
public static class SeedPrompts
{
    /// <summary>The five families sampled (uniformly) in normal synthesis.</summary>
    public static IReadOnlyList<SeedPromptFamily> Families { get; } =
        [SeedPromptFamily.Structuring, SeedPromptFamily.Summarization, SeedPromptFamily.Question, SeedPromptFamily.UseCase, SeedPromptFamily.Creative];

    /// <summary>Target formats of structuring prompts.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["JSON", "YAML", "TOML", "INI", "XML", "plain text"];

    // Every seed ends by asking for the message alone: A plays the user, so any preamble would leak into B's input.
    const string OnlyMessage = " Reply with that message only, nothing before or after it.";

    static readonly string[] Structuring =
    [
        "Write a request asking the assistant to lay out one particular part of the document above in {format}. Say which part you mean (a section, an event, a person, a list of figures) and insist that every date, name, place and number be copied exactly." + OnlyMessage,
        "You want the facts of one passage of the document above reorganised as {format}. Write the instruction you would send, naming the passage and asking that names, dates, quantities and places appear precisely as written." + OnlyMessage,
        "Compose a message that asks for a {format} rendering of a specific topic covered in the document above, with clear fields or keys and with all exact values (years, amounts, names, locations) preserved." + OnlyMessage,
    ];

    static readonly string[] Summarization =
    [
        "Write a message asking the assistant to summarise a specific part of the document above. Point to the part clearly, and say how long the summary should be." + OnlyMessage,
        "You need a short overview of the document above for a busy colleague. Write the request you would send, saying which portion to cover and what the summary should emphasise." + OnlyMessage,
        "Compose a request for a summary of one section or theme of the document above that keeps its key names, dates and figures." + OnlyMessage,
    ];

    static readonly string[] Question =
    [
        "Write one question that can only be answered by someone who has read the document above closely. Make it specific, mentioning names, dates or numbers from the text so it is clear what you are asking about." + OnlyMessage,
        "You are preparing a quiz about the document above. Write a single challenging question about a precise detail in it, with enough context that it stands on its own." + OnlyMessage,
        "Ask a question about the document above that requires connecting two or more facts stated in different places. Be concrete about what you want to know." + OnlyMessage,
    ];

    static readonly string[] UseCase =
    [
        "Think of a person who would find the document above useful in their work. Write the message they would send to get practical help with a realistic task that depends on its contents." + OnlyMessage,
        "Write a request for a concrete piece of work built from the document above, such as a briefing note, a checklist, a timeline or a letter, explaining what it is for." + OnlyMessage,
        "Imagine someone must make a decision using the information in the document above. Write the message they would send describing their situation and asking for help grounded in the text." + OnlyMessage,
    ];

    static readonly string[] Creative =
    [
        "Write a message asking for a short creative piece, such as a poem, a diary entry or a dialogue, inspired by the document above and faithful to its facts." + OnlyMessage,
        "Invent an imaginative request based on the document above: for example, a story told by one of the people it mentions, or a radio announcement about one of its events." + OnlyMessage,
        "Ask the assistant to retell part of the document above from an unusual point of view, keeping the real names, places and dates." + OnlyMessage,
    ];

    /// <summary>The generic seed of the ablation.</summary>
    public const string GenericText = "Start a conversation about the document above: write the first message a curious reader would send about it." + OnlyMessage;

    /// <summary>Instructions appended to A's message to ask B for step-by-step reasoning.</summary>
    public static IReadOnlyList<string> ChainOfThoughtInstructions { get; } =
    [
        "Think it through step by step before giving your final answer.",
        "First explain your reasoning inside <reasoning> and </reasoning> tags, then give the answer.",
        "Work out the answer carefully, showing your reasoning, and finish with a line that starts with 'Answer:'.",
        "Before responding, list the facts from the document that matter here, then answer using them.",
    ];

    /// <summary>The wordings of a family ({format} marks where a structuring format goes).</summary>
    public static IReadOnlyList<string> Wordings(SeedPromptFamily family) => family switch
    {
        SeedPromptFamily.Structuring => Structuring,
        SeedPromptFamily.Summarization => Summarization,
        SeedPromptFamily.Question => Question,
        SeedPromptFamily.UseCase => UseCase,
        SeedPromptFamily.Creative => Creative,
        SeedPromptFamily.Generic => [GenericText],
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "unknown seed prompt family"),
    };

    /// <summary>A family uniformly from the five (or the generic seed), then one of its wordings uniformly.</summary>
    public static SeedPrompt Sample(Random rng, bool generic = false)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var family = generic ? SeedPromptFamily.Generic : Families[rng.Next(Families.Count)];
        var wordings = Wordings(family);
        var text = wordings[rng.Next(wordings.Count)];
        if (family == SeedPromptFamily.Structuring) text = text.Replace("{format}", Formats[rng.Next(Formats.Count)], StringComparison.Ordinal);
        return new SeedPrompt(family, text);
    }

    /// <summary>With the given probability, a chain-of-thought instruction; otherwise null.</summary>
    public static string? SampleChainOfThought(Random rng, double probability)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(probability >= 0 && probability <= 1)) throw new ArgumentOutOfRangeException(nameof(probability), "must be in [0, 1]");
        // Both draws always happen, so the caller's stream advances identically whatever the outcome.
        var draw = rng.NextDouble();
        var pick = ChainOfThoughtInstructions[rng.Next(ChainOfThoughtInstructions.Count)];
        return draw < probability ? pick : null;
    }

    /// <summary>A's message as B receives it: the instruction, if any, after a blank line.</summary>
    public static string WithChainOfThought(string message, string? instruction) =>
        instruction is null ? message : $"{message.TrimEnd()}\n\n{instruction}";
}
