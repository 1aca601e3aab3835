// Builds training conversations about one records document: several turns, each either a question answered
// with the exact short answer (participant B) or a seed prompt answered by writing a question about the
// document (participant A) that the next turn then answers. Answers weigh 1 in the loss, everything else the
// recipe's context weight (plain language modelling by default: names repeat in a record, which teaches copying).
using Cartridges.Model.Tokenization;
using Cartridges.ProvingGround.Records;
using Cartridges.Training.Synthesis;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Turns documents into weighted token sequences in the chat format.</summary>
public sealed class SequenceBuilder(HfTokenizer tokenizer, PretrainRecipe recipe)
{
    /// <summary>Questions asked per document: more for longer documents, which cost more to read.</summary>
    public static int TurnsFor(int records, double perRecord = 1.0) => 4 + (int)Math.Round(records * perRecord);

    /// <summary>A conversation about <paramref name="doc"/> with questions drawn by <paramref name="rng"/>.</summary>
    public TrainingSequence Build(RecordsGenerator generator, RecordsDocument doc, Random rng)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(rng);
        var tokens = new List<int>();
        var weights = new List<float>();
        var kinds = doc.FactKinds;
        var turns = TurnsFor(doc.Records.Count, recipe.QuestionsPerRecord);
        var first = true;
        for (var turn = 0; turn < turns; turn++)
        {
            var q = generator.Question(rng, doc, rng.Next(doc.Records.Count), kinds[rng.Next(kinds.Count)]);
            AddTurn(tokens, weights, doc.Text, q, rng.NextDouble() < recipe.AskTurnProbability, rng, ref first);
        }
        return new TrainingSequence([.. tokens], [.. weights]);
    }

    /// <summary>
    /// A chat conversation about <paramref name="doc"/>: with the recipe's <see cref="PretrainRecipe.ChunkShare"/> a
    /// self-study chunk conversation (when its slice holds a whole fact), otherwise <see cref="Build"/>.
    /// </summary>
    public TrainingSequence Chat(RecordsGenerator generator, RecordsDocument doc, Random rng)
    {
        // The draw is skipped when the share is 0, so recipes without chunk conversations replay their exact batches.
        if (recipe.ChunkShare > 0 && rng.NextDouble() < recipe.ChunkShare && ChunkSequence(generator, doc, rng) is { } chunk) return chunk;
        return Build(generator, doc, rng);
    }

    /// <summary>Turns of a chunk conversation.</summary>
    public const int ChunkTurns = 3;

    /// <summary>
    /// A self-study chunk conversation: the system turn holds a slice of the document of
    /// [<see cref="PretrainRecipe.ChunkMinTokens"/>, <see cref="PretrainRecipe.ChunkMaxTokens"/>] tokens at a random
    /// offset, exactly as self-study renders a chunk, and each turn is participant A writing a question about a fact
    /// that lies whole in the slice (uniformly among them), then its answer. Self-study's question writer sees such
    /// slices and nothing else; trained only on whole documents it asked about some facts of a slice far more often
    /// than others. Null when the slice holds no whole fact.
    /// </summary>
    public TrainingSequence? ChunkSequence(RecordsGenerator generator, RecordsDocument doc, Random rng)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(rng);
        var ids = tokenizer.Encode(doc.Text).ToArray();
        var length = Math.Min(rng.Next(PretrainRecipe.ChunkMinTokens, PretrainRecipe.ChunkMaxTokens + 1), ids.Length);
        var offset = rng.Next(0, ids.Length - length + 1);
        // The slice's span in the document text: the decoded prefix before it is a prefix of the text.
        var start = tokenizer.Decode(ids[..offset]).Length;
        var slice = tokenizer.Decode(ids[offset..(offset + length)]);
        var whole = WholeFacts(doc, start, start + slice.Length);
        if (whole.Count == 0) return null;
        var tokens = new List<int>();
        var weights = new List<float>();
        var first = true;
        for (var turn = 0; turn < ChunkTurns; turn++)
        {
            var (record, kind) = whole[rng.Next(whole.Count)];
            AddTurn(tokens, weights, slice, generator.Question(rng, doc, record, kind), ask: true, rng, ref first);
        }
        return new TrainingSequence([.. tokens], [.. weights]);
    }

    /// <summary>The (record, kind) facts whose key and value both lie in characters [start, end) of the document.</summary>
    public IReadOnlyList<(int Record, FactKind Kind)> WholeFacts(RecordsDocument doc, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var facts = new List<(int, FactKind)>();
        for (var i = 0; i < doc.Records.Count; i++)
        {
            foreach (var kind in doc.FactKinds)
            {
                // A keyed key occurs once in its document; a held-out wording (a comma inside the key) is not found and skipped.
                var at = doc.Text.IndexOf(KeyedTemplates.Key(kind, doc.Records[i], recipe.Facts).Trim(), StringComparison.Ordinal);
                if (at < start) continue;
                var value = doc.Text.IndexOf(RecordTemplates.Answer(kind, doc.Records[i]), at, StringComparison.Ordinal);
                if (value >= 0 && value + RecordTemplates.Answer(kind, doc.Records[i]).Length <= end) facts.Add((i, kind));
            }
        }
        return facts;
    }

    /// <summary>BOS, <paramref name="span"/> random word tokens, the same tokens again; only the repeat is predicted.</summary>
    public TrainingSequence CopySequence(Random rng, int span)
    {
        ArgumentNullException.ThrowIfNull(rng);
        // Word tokens sit between the 256 byte tokens and the trailing special tokens.
        var firstSpecial = tokenizer.VocabSize - Vocabulary.RecordsVocabulary.SpecialTokens.Count;
        var words = Enumerable.Range(0, span).Select(_ => rng.Next(256, firstSpecial)).ToArray();
        int[] tokens = [tokenizer.BosId ?? 0, .. words, .. words];
        var weights = tokens.Select((_, i) => i > span + 1 ? 1f : 0f).ToArray();
        return new TrainingSequence(tokens, weights);
    }

    /// <summary>
    /// A recall drill on a keyed document: BOS, the document, then every fact restated in random order as
    /// " {surname} {attribute} {value}." with only the values predicted. Each value is then readable only by matching
    /// its two-token key against the document — the circuit questions need — with a target every few tokens instead
    /// of one per chat turn. With <paramref name="ordered"/> the facts are restated in the document's own order and every
    /// restated token is predicted: a copy of the document, the task induction heads form on fastest.
    /// </summary>
    public TrainingSequence DrillSequence(RecordsDocument doc, Random rng, bool ordered = false)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(rng);
        var tokens = new List<int> { tokenizer.BosId ?? 0 };
        var weights = new List<float> { 0f };
        Add(tokens, weights, doc.Text + "\n\nSummary:", recipe.ContextLossWeight);
        var around = ordered ? 1f : recipe.ContextLossWeight;
        foreach (var (r, k) in ordered ? DocumentOrder(doc, recipe.Facts) : DrillFacts(doc, rng))
        {
            Add(tokens, weights, KeyedTemplates.Key(k, r, recipe.Facts), around);
            Add(tokens, weights, " " + RecordTemplates.Answer(k, r), 1f);
            Add(tokens, weights, ".", around);
        }
        return new TrainingSequence([.. tokens], [.. weights]);
    }

    /// <summary>The document's facts in the order its text states them.</summary>
    public static IReadOnlyList<(PatientRecord Record, FactKind Kind)> DocumentOrder(RecordsDocument doc, FactStyle style)
    {
        ArgumentNullException.ThrowIfNull(doc);
        // A keyed fact's key (surname and attribute) occurs once in its document, so its position orders the facts.
        return doc.Records.SelectMany(r => doc.FactKinds.Select(k => (r, k)))
            .OrderBy(f => doc.Text.IndexOf(KeyedTemplates.Key(f.k, f.r, style).Trim(), StringComparison.Ordinal)).ToList();
    }

    /// <summary>The facts a (not ordered) drill of this recipe restates, in order, drawn from <paramref name="rng"/>.</summary>
    public IReadOnlyList<(PatientRecord Record, FactKind Kind)> DrillFacts(RecordsDocument doc, Random rng) =>
        DrillOrder(doc, rng, recipe.DrillsWithReplacement);

    /// <summary>
    /// The facts a drill restates, in order (what <see cref="DrillSequence"/> draws from <paramref name="rng"/>): every
    /// fact once in random order, or, <paramref name="withReplacement"/>, as many draws with replacement.
    /// </summary>
    public static IReadOnlyList<(PatientRecord Record, FactKind Kind)> DrillOrder(RecordsDocument doc, Random rng, bool withReplacement = false)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(rng);
        var facts = doc.Records.SelectMany(r => doc.FactKinds.Select(k => (r, k))).ToList();
        return withReplacement ? [.. facts.Select(_ => facts[rng.Next(facts.Count)])] : [.. facts.OrderBy(_ => rng.Next())];
    }

    // One turn: with ask, participant A first (a seed prompt from the project's self-study families, answered with the
    // question), then the question, with a chain-of-thought instruction as self-study adds one, and its answer.
    void AddTurn(List<int> tokens, List<float> weights, string documentText, RecordsQuestion q, bool ask, Random rng, ref bool first)
    {
        if (ask)
        {
            AddPrompt(tokens, weights, documentText, SeedPrompts.Sample(rng).Text, ref first);
            Add(tokens, weights, RecordsChat.Reply(q.Text), 1f);
        }
        var cot = SeedPrompts.SampleChainOfThought(rng, recipe.ChainOfThoughtProbability);
        AddPrompt(tokens, weights, documentText, SeedPrompts.WithChainOfThought(q.Text, cot), ref first);
        Add(tokens, weights, RecordsChat.Reply(q.Answer), 1f);
    }

    void AddPrompt(List<int> tokens, List<float> weights, string documentText, string message, ref bool first)
    {
        Add(tokens, weights, first ? RecordsChat.FirstPrompt(documentText, message) : RecordsChat.NextPrompt(message), recipe.ContextLossWeight);
        first = false;
    }

    void Add(List<int> tokens, List<float> weights, string text, float weight)
    {
        var ids = tokenizer.Encode(text, specialTokens: true); // generated markup and content: the chat format spelled out
        tokens.AddRange(ids);
        weights.AddRange(Enumerable.Repeat(weight, ids.Count));
    }
}
