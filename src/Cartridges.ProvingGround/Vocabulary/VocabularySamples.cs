// The texts the records vocabulary is counted from: generated documents of every split's templates, every
// question template, the chat template's fixed text and the self-study prompts (seed prompts, chain-of-thought
// instructions, system prompt), so everything the model is trained or probed on is word-level.
using Cartridges.ProvingGround.Pretraining;
using Cartridges.ProvingGround.Records;
using Cartridges.Training.Synthesis;

namespace Cartridges.ProvingGround.Vocabulary;

/// <summary>Sample texts for building the records vocabulary.</summary>
public static class VocabularySamples
{
    /// <summary>The vocabulary pieces for a seed (deterministic).</summary>
    public static IReadOnlyList<string> Pieces(int seed) => RecordsVocabulary.Pieces(Texts(seed));

    /// <summary>The sample texts.</summary>
    public static IEnumerable<string> Texts(int seed)
    {
        foreach (var (split, style) in new[] { (RecordSplit.Train, FactStyle.Varied), (RecordSplit.HeldOutTemplates, FactStyle.Varied), (RecordSplit.HeldOutTemplates, FactStyle.Keyed) })
        {
            var gen = new RecordsGenerator(split, seed, style);
            for (var i = 0; i < (style == FactStyle.Keyed ? 10 : 60); i++)
            {
                var doc = gen.Document(9_000_000 + i, 6);
                yield return RecordsChat.FirstPrompt(doc.Text, "");
                foreach (var q in gen.Questions(doc))
                {
                    yield return q.Text;
                    yield return q.MultipleChoiceText;
                    yield return RecordsChat.Reply(q.Answer);
                }
            }
        }
        foreach (var family in Enum.GetValues<SeedPromptFamily>())
        {
            foreach (var wording in SeedPrompts.Wordings(family))
                foreach (var format in SeedPrompts.Formats) yield return wording.Replace("{format}", format, StringComparison.Ordinal);
        }
        foreach (var cot in SeedPrompts.ChainOfThoughtInstructions) yield return "\n\n" + cot;
        yield return RecordsChat.NextPrompt("x");
    }
}
