// Deterministic generator of records documents and their questions (issue 6, deliverable 1). A document is a
// title line and one paragraph per patient: a header sentence, the fact sentences in random order and a
// free-text note. Each split draws documents from its own seed stream, so splits never share a document, and
// HeldOutTemplates renders with templates that training never uses.
using System.Text;

namespace Cartridges.ProvingGround.Records;

/// <summary>Generates documents and questions for one split; the same (seed, split, index) always gives the same output.</summary>
public sealed class RecordsGenerator
{
    /// <summary>
    /// Creates a generator for a split (and a wording of the fact sentences); with <paramref name="factsPerRecord"/>
    /// between 1 and 9 each document states only that many fact kinds (drawn per document, the same for every patient),
    /// and with <paramref name="kinds"/> they are drawn from those kinds only (all of them when
    /// <paramref name="factsPerRecord"/> is 0). Keyed documents without <paramref name="headers"/> are the bare facts
    /// after the title, every patient's surname written once per fact and nowhere else; with <paramref name="notes"/>
    /// each keyed record also has a free-text note that names nothing (other wordings always have their notes), and with
    /// <paramref name="extraNotes"/> that share of keyed records a second one: longer documents at the same patients.
    /// </summary>
    public RecordsGenerator(RecordSplit split, int seed = 0, FactStyle style = FactStyle.Varied, int factsPerRecord = 0, IReadOnlyList<FactKind>? kinds = null,
        bool headers = true, bool notes = false, double extraNotes = 0)
    {
        if (extraNotes is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(extraNotes), extraNotes, "the share of records with a second note must be in [0, 1]");
        if (extraNotes > 0 && !(notes && style.IsKeyed())) throw new ArgumentException("A second note needs keyed records with notes.", nameof(extraNotes));
        ExtraNotes = extraNotes;
        if (!headers && !style.IsKeyed()) throw new ArgumentException($"Only keyed documents can leave out the patient headers ({style} states the name in them).", nameof(headers));
        Headers = headers;
        Notes = notes || !style.IsKeyed();
        var pool = kinds is { Count: > 0 } ? kinds.Distinct().Order().ToArray() : AllKinds;
        ArgumentOutOfRangeException.ThrowIfNegative(factsPerRecord);
        if (factsPerRecord > pool.Length)
            throw new ArgumentOutOfRangeException(nameof(factsPerRecord), $"{factsPerRecord} fact kinds per record, but only {pool.Length} kinds to draw from ({string.Join(", ", pool)})");
        Split = split;
        Seed = seed;
        Style = style;
        Kinds = pool;
        FactsPerRecord = factsPerRecord == 0 ? pool.Length : factsPerRecord;
    }

    static readonly FactKind[] AllKinds = Enum.GetValues<FactKind>();

    /// <summary>The fact kinds documents draw from (all ten unless the generator was given fewer).</summary>
    public IReadOnlyList<FactKind> Kinds { get; }

    /// <summary>Fact kinds each document states about every patient (all ten unless the generator was narrowed).</summary>
    public int FactsPerRecord { get; }

    /// <summary>Whether every patient's paragraph opens with a header sentence naming the patient.</summary>
    public bool Headers { get; }

    /// <summary>Whether every patient's record has a free-text note besides its facts.</summary>
    public bool Notes { get; }

    /// <summary>Share of keyed records with a second free-text note.</summary>
    public double ExtraNotes { get; }

    /// <summary>The wording of fact sentences.</summary>
    public FactStyle Style { get; }

    /// <summary>The split.</summary>
    public RecordSplit Split { get; }

    /// <summary>The base seed.</summary>
    public int Seed { get; }

    /// <summary>The Random for a stream (documents, questions, ...) of item <paramref name="index"/>; independent of call order.</summary>
    public Random StreamRng(string stream, long index) => new(StableHash.Of(Seed, Split.ToString(), stream, index));

    /// <summary>
    /// Most patients a document can hold: keyed documents name a patient by surname alone, so they hold one patient per
    /// surname (more would make questions ambiguous); the others, one per patient number.
    /// </summary>
    public int MaxRecords => Style.IsKeyed() ? RecordPools.Surnames.Count : RecordPools.MaxPatientNumber - RecordPools.MinPatientNumber + 1;

    /// <summary>Document <paramref name="index"/> with exactly <paramref name="records"/> patients.</summary>
    public RecordsDocument Document(long index, int records)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(records, 1);
        if (records > MaxRecords)
            throw new ArgumentOutOfRangeException(nameof(records), records, $"{Style} documents hold at most {MaxRecords} patients (each needs its own {(Style.IsKeyed() ? "surname" : "patient number")}); asked for {records}.");
        var rng = StreamRng("document", index);
        var patients = SamplePatients(rng, records);
        // The narrowed kinds come from their own stream, so full documents stay what they were.
        var kinds = FactsPerRecord == AllKinds.Length ? null : Shuffled(StreamRng("kinds", index), Kinds).Take(FactsPerRecord).Order().ToArray();
        return new RecordsDocument($"{Split.ToString().ToLowerInvariant()}-{index:D6}", Split, patients, Render(rng, patients, kinds ?? AllKinds), kinds);
    }

    /// <summary>
    /// Document <paramref name="index"/> with the fewest patients whose text reaches <paramref name="targetTokens"/>
    /// as counted by <paramref name="countTokens"/> (default: pre-tokenizer pieces, which the records vocabulary
    /// maps one to one onto tokens).
    /// </summary>
    public RecordsDocument DocumentOfTokens(long index, int targetTokens, Func<string, int>? countTokens = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetTokens, 1);
        countTokens ??= TokenEstimate.Count;
        // Records are ~110 tokens each; start from that estimate and adjust, each try regenerating from the same seed.
        var records = Math.Min(MaxRecords, Math.Max(1, targetTokens / 110));
        var doc = Document(index, records);
        while (countTokens(doc.Text) < targetTokens)
        {
            if (records >= MaxRecords)
                throw new ArgumentOutOfRangeException(nameof(targetTokens), targetTokens,
                    $"{Style} documents of this generator reach at most {countTokens(doc.Text)} tokens ({MaxRecords} patients, {FactsPerRecord} fact{(FactsPerRecord == 1 ? "" : "s")} each); asked for {targetTokens}.");
            doc = Document(index, ++records);
        }
        while (records > 1 && countTokens(Document(index, records - 1).Text) >= targetTokens)
            doc = Document(index, --records);
        return doc;
    }

    /// <summary>One question of each kind the document states about every record, in record order (deterministic per document).</summary>
    public IReadOnlyList<RecordsQuestion> Questions(RecordsDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var rng = new Random(StableHash.Of(Seed, doc.Id, "questions", 0));
        var result = new List<RecordsQuestion>();
        for (var r = 0; r < doc.Records.Count; r++)
        {
            foreach (var kind in doc.FactKinds)
                result.Add(Question(rng, doc, r, kind));
        }
        return result;
    }

    /// <summary>A question of <paramref name="kind"/> about record <paramref name="record"/>, its template drawn from the split's range.</summary>
    public RecordsQuestion Question(Random rng, RecordsDocument doc, int record, FactKind kind)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(doc);
        var templates = RecordTemplates.QuestionsFor(Style)[kind];
        var (start, end) = RecordTemplates.Range(templates.Count, Split);
        var template = rng.Next(start, end);
        var patient = doc.Records[record];
        var value = RecordTemplates.Answer(kind, patient);
        var (choices, correct) = Choices(rng, doc, kind, value);
        var answer = Style == FactStyle.KeyedNameNext ? KeyedTemplates.RestatedAnswer(kind, patient) : value;
        return new RecordsQuestion(kind, record, template, RecordTemplates.Fill(templates[template], patient), answer, choices, correct);
    }

    static (IReadOnlyList<string> Choices, int Correct) Choices(Random rng, RecordsDocument doc, FactKind kind, string answer)
    {
        // Distractors: the same fact of other patients in the document first, then fresh values of that kind.
        var pool = doc.Records.Select(r => RecordTemplates.Answer(kind, r)).Where(a => a != answer).Distinct().ToList();
        var distractors = new List<string>();
        while (distractors.Count < 4)
        {
            string candidate;
            if (pool.Count > 0)
            {
                var i = rng.Next(pool.Count);
                candidate = pool[i];
                pool.RemoveAt(i);
            }
            else
            {
                candidate = RecordTemplates.Answer(kind, SamplePatient(rng, RecordPools.FirstNames[0], RecordPools.Surnames[0], rng.Next(RecordPools.MinPatientNumber, RecordPools.MaxPatientNumber + 1)));
            }
            if (candidate != answer && !distractors.Contains(candidate)) distractors.Add(candidate);
        }
        var correct = rng.Next(5);
        distractors.Insert(correct, answer);
        return (distractors, correct);
    }

    static IReadOnlyList<PatientRecord> SamplePatients(Random rng, int count)
    {
        // First names and surnames are each unique while the pools allow it, so either one identifies a patient;
        // beyond that only full names (and patient numbers) are unique.
        var firsts = Shuffled(rng, RecordPools.FirstNames);
        var lasts = Shuffled(rng, RecordPools.Surnames);
        var numbers = Shuffled(rng, Enumerable.Range(RecordPools.MinPatientNumber, RecordPools.MaxPatientNumber - RecordPools.MinPatientNumber + 1).ToList());
        var names = new HashSet<string>();
        var result = new List<PatientRecord>(count);
        if (count > numbers.Count) throw new ArgumentOutOfRangeException(nameof(count), $"at most {numbers.Count} patients per document");
        for (var i = 0; i < count; i++)
        {
            string first, last;
            if (i < firsts.Count && i < lasts.Count)
                (first, last) = (firsts[i], lasts[i]);
            else
            {
                do
                    (first, last) = (firsts[rng.Next(firsts.Count)], lasts[rng.Next(lasts.Count)]);
                while (names.Contains($"{first} {last}"));
            }
            names.Add($"{first} {last}");
            result.Add(SamplePatient(rng, first, last, numbers[i]));
        }
        return result;
    }

    static PatientRecord SamplePatient(Random rng, string first, string last, int number)
    {
        var lab = RecordPools.Labs[rng.Next(RecordPools.Labs.Count)];
        var s1 = rng.Next(RecordPools.Symptoms.Count);
        var s2 = (s1 + 1 + rng.Next(RecordPools.Symptoms.Count - 1)) % RecordPools.Symptoms.Count;
        return new PatientRecord
        {
            First = first,
            Last = last,
            Number = number,
            Birth = RecordDate.Sample(rng, RecordPools.MinBirthYear, RecordPools.MaxBirthYear),
            Diagnosis = Pick(rng, RecordPools.Diagnoses),
            Drug = Pick(rng, RecordPools.Drugs),
            DoseMg = Pick(rng, RecordPools.Doses),
            DrugStart = RecordDate.Sample(rng, RecordPools.MinVisitYear, RecordPools.MaxVisitYear),
            Lab = new LabResult(lab.Name, rng.Next(lab.Min, lab.Max + 1), lab.Unit),
            Physician = Pick(rng, RecordPools.Physicians),
            Ward = Pick(rng, RecordPools.Wards),
            FollowUp = RecordDate.Sample(rng, RecordPools.MinVisitYear, RecordPools.MaxVisitYear),
            Symptoms = (RecordPools.Symptoms[s1], RecordPools.Symptoms[s2]),
        };
    }

    string Render(Random rng, IReadOnlyList<PatientRecord> patients, IReadOnlyList<FactKind> kinds)
    {
        var text = new StringBuilder();
        text.Append(PickTemplate(rng, RecordTemplates.Titles));
        var facts = Style switch
        {
            FactStyle.NameFirst => NameFirstTemplates.Facts,
            FactStyle.Keyed or FactStyle.KeyedNameNext => KeyedTemplates.FactsFor(Style),
            _ => RecordTemplates.Facts,
        };
        foreach (var p in patients)
        {
            if (Headers) text.Append("\n\n").Append(RecordTemplates.Fill(PickTemplate(rng, Style.IsKeyed() ? KeyedTemplates.Headers : RecordTemplates.Headers), p));
            var sentences = kinds.Select(k => PickTemplate(rng, facts[k])).ToList();
            if (Notes) sentences.Add(PickTemplate(rng, Style.IsKeyed() ? KeyedTemplates.Notes : RecordTemplates.Notes));
            // Drawn only when asked for, so documents without second notes stay exactly as they were.
            if (ExtraNotes > 0 && rng.NextDouble() < ExtraNotes) sentences.Add(PickTemplate(rng, KeyedTemplates.Notes));
            foreach (var s in Shuffled(rng, sentences))
                text.Append(' ').Append(RecordTemplates.Fill(s, p));
        }
        return text.ToString();
    }

    string PickTemplate(Random rng, IReadOnlyList<string> templates)
    {
        var (start, end) = RecordTemplates.Range(templates.Count, Split);
        return templates[rng.Next(start, end)];
    }

    static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    static List<T> Shuffled<T>(Random rng, IReadOnlyList<T> items)
    {
        var list = items.ToList();
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}
