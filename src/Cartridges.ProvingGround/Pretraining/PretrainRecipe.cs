// The "records" pretraining recipe (issue 6, deliverable 2): a small Llama trained from scratch on records
// documents in the chat format. Small attention models learn in-context recall with many cheap steps over
// single-token keys and values (Zoology / MQAR line of work), hence a word-level vocabulary, d=128, short
// sequences first and a curriculum from one record to many.
using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Model size, optimisation and curriculum of a pretraining run.</summary>
public sealed record PretrainRecipe
{
    /// <summary>Hidden size.</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Decoder layers.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; init; } = 4;

    /// <summary>SwiGLU inner size.</summary>
    public int Intermediate { get; init; } = 384;

    /// <summary>Longest position the model supports (documents up to ~1.9k tokens plus a question).</summary>
    public int MaxPositions { get; init; } = 2048;

    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 3000;

    /// <summary>Peak learning rate (AdamW, linear warm-up, cosine decay to 10%).</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Warm-up steps.</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>Decoupled weight decay on matrices.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Global gradient-norm clip.</summary>
    public double GradClip { get; init; } = 1.0;

    /// <summary>Tokens per optimizer step (sequences × padded length, roughly).</summary>
    public int TokensPerStep { get; init; } = 4096;

    /// <summary>Fewest records per training document.</summary>
    public int MinRecords { get; init; } = 1;

    /// <summary>Most records per training document at the end of the curriculum.</summary>
    public int MaxRecords { get; init; } = 10;

    /// <summary>Records per document at the start of the curriculum.</summary>
    public int StartRecords { get; init; } = 2;

    /// <summary>Share of the steps over which the record count ramps from start to max.</summary>
    public double CurriculumFraction { get; init; } = 0.6;

    /// <summary>
    /// Gated curriculum: when above 0, documents start at <see cref="StartRecords"/> records and grow by one record
    /// each time the probe's with-document exact match at the current size reaches this share (instead of the fixed
    /// ramp), so longer documents come only once reading holds at the current length.
    /// </summary>
    public double CurriculumGate { get; init; }

    /// <summary>Loss weight of tokens that are not answers (document, prompts): plain language modelling, whose repeated names teach copying.</summary>
    public float ContextLossWeight { get; init; } = 1.0f;

    /// <summary>Questions per record in a training conversation, on top of four (dense recall supervision).</summary>
    public double QuestionsPerRecord { get; init; } = 2.0;

    /// <summary>
    /// Extra sequences per step of random words repeated twice (loss on the repeat): the classic task on which
    /// induction (copy) heads form quickly, offered as a scaffold for in-context recall. 0 = off.
    /// </summary>
    public int CopySequencesPerStep { get; init; }

    /// <summary>
    /// Share of each step's documents given as recall drills (SequenceBuilder.DrillSequence) instead of chat
    /// conversations; keyed documents only. 0 = off.
    /// </summary>
    public double DrillShare { get; init; }

    /// <summary>
    /// Fact kinds per record (1–9; 0 = all ten), drawn per document and the same for every patient. With one kind the
    /// attribute says nothing and only the surname tells records apart: the binding stage. Not serialised when 0, so
    /// runs from before the option resume unchanged.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int FactsPerRecord { get; init; }

    /// <summary>
    /// Share of drills that restate the facts in the document's order with every restated token predicted (a copy task,
    /// on which induction heads form fastest); the rest are shuffled, values only. Left out of the recipe's JSON when 0,
    /// so earlier runs resume unchanged.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double OrderedDrillShare { get; init; }

    /// <summary>
    /// The fact kinds documents draw from (null = all ten): single-token kinds with many values (patient numbers) make
    /// the binding stage the plain key–value recall on which small models bind fastest. Left out of the JSON when null.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<FactKind>? FactKinds { get; init; }

    /// <summary>
    /// Fewest records of a training document below the curriculum's ceiling (0 = half the ceiling, as before): a floor
    /// of 2 under a ceiling of 8 keeps the short documents on which binding is learned first in every step. Left out of
    /// the JSON when 0.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int RecordsFloor { get; init; }

    /// <summary>
    /// Keyed documents without the "Patient X." header of each record: the surname then occurs once per fact, as in
    /// plain key–value recall, instead of also in a header the question's key matches but no value follows. Left out of
    /// the JSON when false.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool NoRecordHeaders { get; init; }

    /// <summary>
    /// Keyed documents with a free-text note per record (no name, no value): longer documents at the density of real
    /// records, where facts are a small share of the text. Left out of the JSON when false.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool KeyedNotes { get; init; }

    /// <summary>
    /// Share of chat documents given as self-study chunk conversations instead (SequenceBuilder.ChunkSequence): the
    /// system turn holds a random slice of the document, as self-study's teacher and participant A see it, and every
    /// turn is A writing a question about a patient whose fact lies whole in the slice, then its answer. Keyed data
    /// only. Left out of the JSON when 0, so earlier runs resume unchanged.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double ChunkShare { get; init; }

    /// <summary>Shortest and longest document slice of a chunk conversation, in tokens.</summary>
    public const int ChunkMinTokens = 16, ChunkMaxTokens = 96;

    /// <summary>
    /// Every document of a step draws its own record count (within the step's range) instead of the whole step sharing
    /// one: each batch then mixes short documents, where binding pays off first, with long ones, as the recall
    /// microbenchmark's batches do. Left out of the JSON when false.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool MixedSizes { get; init; }

    /// <summary>
    /// Drills restate as many facts as the document states, each drawn at random with replacement, instead of every fact
    /// once in random order: a restatement without repetition can be answered by copying any value not yet restated
    /// (H(n)/n exact match without looking at the name — the plateau every earlier run sat on); with replacement only
    /// matching the name beats chance. Left out of the JSON when false.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool DrillsWithReplacement { get; init; }

    /// <summary>
    /// How far a passed gate raises the record ceiling, as a share of the current ceiling (at least one record):
    /// 0 adds one record per passed gate; 0.25 takes 16 records to 100 in nine gates. Left out of the JSON when 0.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double GateGrowth { get; init; }

    /// <summary>The generator of this recipe's documents for <paramref name="split"/>.</summary>
    public RecordsGenerator Generator(RecordSplit split) => new(split, Seed, Facts, FactsPerRecord, FactKinds, headers: !NoRecordHeaders, notes: KeyedNotes);

    /// <summary>Probability that a turn is "write a question" (participant A) followed by its answer.</summary>
    public double AskTurnProbability { get; init; } = 0.1;

    /// <summary>Probability that a question carries a chain-of-thought instruction, as in self-study.</summary>
    public double ChainOfThoughtProbability { get; init; } = 0.2;

    /// <summary>Steps between accuracy probes.</summary>
    public int ProbeEvery { get; init; } = 250;

    /// <summary>Held-out questions per probe and setting.</summary>
    public int ProbeQuestions { get; init; } = 64;

    /// <summary>Steps between checkpoints.</summary>
    public int CheckpointEvery { get; init; } = 100;

    /// <summary>Wording of the documents' fact sentences.</summary>
    public FactStyle Facts { get; init; } = FactStyle.Varied;

    /// <summary>Seed of initialisation and data.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Torch threads (1 keeps a shared 2-core machine usable).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>The default recipe.</summary>
    public static PretrainRecipe Records { get; } = new();

    /// <summary>
    /// The keyed recipe: one-token keys (surname + attribute) with the value right after them, a 2-layer d64 model
    /// (the depth an induction/recall circuit needs; the cheapest size that read earliest in the GPU sweep), answers
    /// weighted 1 and context 0.1, half the documents as recall drills, and the gated curriculum.
    /// </summary>
    public static PretrainRecipe Keyed { get; } = new()
    {
        Layers = 2,
        Facts = FactStyle.Keyed,
        CurriculumGate = 0.8,
        StartRecords = 1,
        // Up to ~2.6k-token documents (about 55 tokens a record), in a context that holds them with a conversation.
        MaxRecords = 48,
        MaxPositions = 4096,
        ContextLossWeight = 0.1f,
        DrillShare = 0.5,
        QuestionsPerRecord = 4,
        LearningRate = 1e-2,
        Hidden = 64,
        Intermediate = 192,
        Steps = 20000,
        ProbeEvery = 100,
    };

    /// <summary>A recipe by name ("records", or "tiny" for tests and smoke runs).</summary>
    public static PretrainRecipe Named(string name) => name switch
    {
        "records" => Records,
        "tiny" => new PretrainRecipe
        {
            Hidden = 32,
            Layers = 1,
            Heads = 2,
            KvHeads = 2,
            Intermediate = 64,
            MaxPositions = 1024,
            Steps = 20,
            TokensPerStep = 512,
            StartRecords = 1,
            MaxRecords = 2,
            WarmupSteps = 2,
            ProbeEvery = 10,
            ProbeQuestions = 8,
            CheckpointEvery = 5,
        },
        "keyed" => Keyed,
        _ => throw new ArgumentException($"unknown recipe '{name}' (known: records, keyed, tiny)", nameof(name)),
    };

    /// <summary>Record count ceiling at <paramref name="step"/> (linear ramp, then flat; the start size under a gated curriculum).</summary>
    public int RecordCeiling(int step)
    {
        if (CurriculumGate > 0) return Math.Max(MinRecords, StartRecords);
        var ramp = Math.Max(1, (int)(Steps * CurriculumFraction));
        var f = Math.Min(1.0, (double)step / ramp);
        return Math.Max(MinRecords, (int)Math.Round(StartRecords + (MaxRecords - StartRecords) * f));
    }

    /// <summary>The gated curriculum's ceiling after a probe scored <paramref name="exactMatch"/> at <paramref name="current"/> records.</summary>
    public int NextCeiling(int current, double exactMatch) =>
        CurriculumGate > 0 && exactMatch >= CurriculumGate && current < MaxRecords
            ? Math.Min(MaxRecords, current + Math.Max(1, (int)(current * GateGrowth)))
            : current;

    /// <summary>Learning rate at <paramref name="step"/> (0-based).</summary>
    public double LearningRateAt(int step)
    {
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps));
        return LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
