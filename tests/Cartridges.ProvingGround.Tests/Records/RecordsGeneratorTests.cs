using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Tests.Records;

public sealed class RecordsGeneratorTests
{
    static readonly RecordSplit[] Splits = [RecordSplit.Train, RecordSplit.HeldOut, RecordSplit.HeldOutTemplates];

    [Fact]
    public void Document_SameSeedAndIndex_IsIdentical()
    {
        var a = new RecordsGenerator(RecordSplit.Train, 7);
        var b = new RecordsGenerator(RecordSplit.Train, 7);
        var da = a.Document(3, 5);
        var db = b.Document(3, 5);
        Assert.Equal(da.Text, db.Text);
        Assert.Equal(a.Questions(da).Select(q => q.MultipleChoiceText), b.Questions(db).Select(q => q.MultipleChoiceText));
    }

    [Fact]
    public void Document_OtherSeedOrIndex_Differs()
    {
        var gen = new RecordsGenerator(RecordSplit.Train, 7);
        Assert.NotEqual(gen.Document(3, 5).Text, gen.Document(4, 5).Text);
        Assert.NotEqual(gen.Document(3, 5).Text, new RecordsGenerator(RecordSplit.Train, 8).Document(3, 5).Text);
    }

    [Theory]
    [InlineData(RecordSplit.Train, FactStyle.Varied)]
    [InlineData(RecordSplit.HeldOut, FactStyle.Varied)]
    [InlineData(RecordSplit.HeldOutTemplates, FactStyle.Varied)]
    [InlineData(RecordSplit.Train, FactStyle.NameFirst)]
    [InlineData(RecordSplit.HeldOutTemplates, FactStyle.NameFirst)]
    [InlineData(RecordSplit.Train, FactStyle.Keyed)]
    [InlineData(RecordSplit.HeldOutTemplates, FactStyle.Keyed)]
    [InlineData(RecordSplit.Train, FactStyle.KeyedNameNext)]
    [InlineData(RecordSplit.HeldOutTemplates, FactStyle.KeyedNameNext)]
    public void EveryQuestion_IsAnswerableFromItsOwnRecord(RecordSplit split, FactStyle style)
    {
        var gen = new RecordsGenerator(split, 1, style);
        for (var i = 0; i < 20; i++)
        {
            var doc = gen.Document(i, 1 + i % 8);
            var paragraphs = doc.Text.Split("\n\n")[1..];
            Assert.Equal(doc.Records.Count, paragraphs.Length);
            var questions = gen.Questions(doc);
            Assert.Equal(doc.Records.Count * Enum.GetValues<FactKind>().Length, questions.Count);
            foreach (var q in questions)
            {
                // The exact value is written, as a whole word sequence, in the paragraph of the patient asked about;
                // name-next replies put the patient's surname before it.
                var value = q.Choices[q.CorrectChoice];
                Assert.Contains(" " + value, paragraphs[q.Record], StringComparison.Ordinal);
                var restated = doc.Records[q.Record].Last + " " + value;
                Assert.Equal(style == FactStyle.KeyedNameNext ? restated : value, q.Answer);
                // Keyed documents name a patient by surname only (the one-token key), and so do their questions.
                Assert.Contains(style.IsKeyed() ? " " + doc.Records[q.Record].Last : doc.Records[q.Record].Name, q.Text, StringComparison.Ordinal);
                Assert.Equal(5, q.Choices.Count);
                Assert.Equal(5, q.Choices.Distinct().Count());
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void NarrowedDocuments_StateTheSameFewKindsForEveryPatient_AndAskOnlyAboutThem(int facts)
    {
        var gen = new RecordsGenerator(RecordSplit.Train, 1, FactStyle.Keyed, facts);
        var seen = new HashSet<FactKind>();
        for (var i = 0; i < 30; i++)
        {
            var doc = gen.Document(i, 6);
            Assert.Equal(facts, doc.FactKinds.Count);
            seen.UnionWith(doc.FactKinds);
            var paragraphs = doc.Text.Split("\n\n")[1..];
            for (var r = 0; r < doc.Records.Count; r++)
            {
                foreach (var kind in Enum.GetValues<FactKind>())
                {
                    // Each stated kind is keyed once per paragraph; the others are absent from the document.
                    var key = KeyedTemplates.Key(kind, doc.Records[r]).Trim();
                    var keyed = paragraphs[r].Contains(key + " ", StringComparison.Ordinal) || paragraphs[r].Contains(doc.Records[r].Last + ", " + key.Split(' ', 2)[1], StringComparison.Ordinal);
                    Assert.Equal(doc.FactKinds.Contains(kind), keyed);
                }
            }
            var questions = gen.Questions(doc);
            Assert.Equal(doc.Records.Count * facts, questions.Count);
            Assert.All(questions, q => Assert.Contains(" " + q.Answer, paragraphs[q.Record], StringComparison.Ordinal));
        }
        // The kinds vary across documents rather than always being the first few.
        Assert.True(seen.Count > facts);
    }

    [Fact]
    public void NameNext_PutsTheSurnameRightBeforeEveryValue_AndTheAttributeBeforeIt()
    {
        var gen = new RecordsGenerator(RecordSplit.Train, 5, FactStyle.KeyedNameNext);
        var doc = gen.Document(2, 4);
        var paragraphs = doc.Text.Split("\n\n")[1..];
        for (var r = 0; r < doc.Records.Count; r++)
        {
            foreach (var kind in Enum.GetValues<FactKind>())
            {
                var patient = doc.Records[r];
                var attribute = RecordTemplates.Fill(KeyedTemplates.Attributes[kind], patient);
                Assert.Contains($"{attribute} {patient.Last} {RecordTemplates.Answer(kind, patient)}", paragraphs[r], StringComparison.Ordinal);
                Assert.Equal($" {attribute} {patient.Last}", KeyedTemplates.Key(kind, patient, FactStyle.KeyedNameNext));
            }
        }
        // The same patients and values as the surname-first wording; only the order of the two key tokens differs.
        var keyed = new RecordsGenerator(RecordSplit.Train, 5, FactStyle.Keyed).Document(2, 4);
        Assert.Equal(keyed.Records, doc.Records);
    }

    [Fact]
    public void NameNextQuestions_InTrainingWordings_EndWithTheKeyAndOnePunctuationMark_AndTheReplyRestatesTheSurname()
    {
        var gen = new RecordsGenerator(RecordSplit.Train, 4, FactStyle.KeyedNameNext);
        var doc = gen.Document(1, 6);
        var templates = new HashSet<int>();
        foreach (var q in gen.Questions(doc))
        {
            var key = KeyedTemplates.Key(q.Kind, doc.Records[q.Record], FactStyle.KeyedNameNext);
            Assert.Matches("^" + System.Text.RegularExpressions.Regex.Escape(key) + "[.?]$", q.Text[q.Text.LastIndexOf(key, StringComparison.Ordinal)..]);
            Assert.Equal(doc.Records[q.Record].Last + " " + q.Choices[q.CorrectChoice], q.Answer);
            templates.Add(q.Template);
        }
        Assert.Equal([0, 1], templates.Order());
        // The held-out wording is the natural question, which does not end with the key.
        var heldOut = new RecordsGenerator(RecordSplit.HeldOutTemplates, 4, FactStyle.KeyedNameNext);
        var h = heldOut.Questions(heldOut.Document(1, 3))[0];
        Assert.DoesNotContain(KeyedTemplates.Key(h.Kind, heldOut.Document(1, 3).Records[h.Record], FactStyle.KeyedNameNext) + "?", h.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyedDocuments_HoldOnePatientPerSurname_AndSayHowLongTheyCanGet()
    {
        var gen = new RecordsGenerator(RecordSplit.HeldOut, 1, FactStyle.KeyedNameNext, 1, [FactKind.Number], headers: false);
        Assert.Equal(RecordPools.Surnames.Count, gen.MaxRecords);
        var full = gen.Document(0, gen.MaxRecords);
        Assert.Equal(gen.MaxRecords, full.Records.Select(r => r.Last).Distinct().Count());
        Assert.Contains("at most 120 patients", Assert.Throws<ArgumentOutOfRangeException>(() => gen.Document(0, gen.MaxRecords + 1)).Message, StringComparison.Ordinal);
        var tooLong = Assert.Throws<ArgumentOutOfRangeException>(() => gen.DocumentOfTokens(0, 100_000));
        Assert.Contains("reach at most", tooLong.Message, StringComparison.Ordinal);
        Assert.Contains("asked for 100000", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyedNotes_AddOneNamelessNotePerRecord_AndKeepTheFacts()
    {
        var plain = new RecordsGenerator(RecordSplit.HeldOut, 4, FactStyle.KeyedNameNext, 1, [FactKind.Number], headers: false);
        var noted = new RecordsGenerator(RecordSplit.HeldOut, 4, FactStyle.KeyedNameNext, 1, [FactKind.Number], headers: false, notes: true);
        Assert.False(plain.Notes);
        Assert.True(noted.Notes);
        Assert.True(new RecordsGenerator(RecordSplit.HeldOut, 4, FactStyle.Varied).Notes); // other wordings always have notes
        for (var i = 0; i < 10; i++)
        {
            var doc = noted.Document(i, 12);
            Assert.Equal(doc.Records.Select(r => r.Last), plain.Document(i, 12).Records.Select(r => r.Last));
            foreach (var r in doc.Records)
            {
                // The surname is written once, in its fact, and nothing but the fact follows it.
                Assert.Equal(1, doc.Text.Split(" " + r.Last + " ").Length - 1);
                Assert.Contains($"{KeyedTemplates.Key(FactKind.Number, r, FactStyle.KeyedNameNext)} {r.Number}", doc.Text, StringComparison.Ordinal);
            }
            // One note per record, drawn from the training notes of the split.
            var notes = KeyedTemplates.Notes.Count(n => doc.Text.Contains(n[..n.IndexOf('{', StringComparison.Ordinal)].Trim(), StringComparison.Ordinal));
            Assert.True(notes >= 1, doc.Text);
            Assert.True(TokenEstimate.Count(doc.Text) > 2 * TokenEstimate.Count(plain.Document(i, 12).Text));
        }
        // Notes name no patient and state no value a question could ask for (only symptoms, which no question asks).
        foreach (var note in KeyedTemplates.Notes)
            Assert.Equal(["{s1}", "{s2}"], System.Text.RegularExpressions.Regex.Matches(note, "{[a-z0-9]+}").Select(m => m.Value));
        // A full 120-patient document with notes is several times the bare one (the length long-document tests need).
        Assert.True(TokenEstimate.Count(noted.Document(0, noted.MaxRecords).Text) > 1800);
    }

    [Fact]
    public void ExtraNotes_LengthenTheDocument_WithTheSamePatientsAndFacts_AndNoneLeavesItAsItWas()
    {
        RecordsGenerator Noted(double extra = 0) =>
            new(RecordSplit.HeldOut, 4, FactStyle.KeyedNameNext, 1, [FactKind.Number], headers: false, notes: true, extraNotes: extra);
        var one = new RecordsGenerator(RecordSplit.HeldOut, 4, FactStyle.KeyedNameNext, 1, [FactKind.Number], headers: false, notes: true);
        Assert.Equal(one.Document(3, 40).Text, Noted().Document(3, 40).Text);
        var doc = Noted(0.5).Document(3, 40);
        var plain = one.Document(3, 40);
        Assert.Equal(plain.Records, doc.Records);
        foreach (var r in doc.Records) Assert.Contains($"number {r.Last} {r.Number}", doc.Text, StringComparison.Ordinal);
        // About half the patients carry a second note: 40 notes become about 60.
        static int Sentences(string text) => text.Split('.', ';').Length;
        Assert.InRange(Sentences(doc.Text) - Sentences(plain.Text), 10, 30);
        Assert.Throws<ArgumentOutOfRangeException>(() => Noted(1.5));
        Assert.Throws<ArgumentException>(() => new RecordsGenerator(RecordSplit.HeldOut, 4, FactStyle.KeyedNameNext, headers: false, extraNotes: 0.1));
    }

    [Fact]
    public void WithoutHeaders_EverySurnameOccursOnlyInItsFacts_AndTheFactsAreThoseOfTheHeaderedDocument()
    {
        var bare = new RecordsGenerator(RecordSplit.Train, 6, FactStyle.Keyed, factsPerRecord: 2, headers: false);
        var headed = new RecordsGenerator(RecordSplit.Train, 6, FactStyle.Keyed, factsPerRecord: 2);
        for (var i = 0; i < 20; i++)
        {
            var doc = bare.Document(i, 5);
            Assert.DoesNotContain("\n\n", doc.Text, StringComparison.Ordinal);
            foreach (var r in doc.Records)
            {
                Assert.All(KeyedTemplates.Headers, h => Assert.DoesNotContain(RecordTemplates.Fill(h, r), doc.Text, StringComparison.Ordinal));
                Assert.Equal(2, doc.Text.Split(" " + r.Last + " ").Length - 1); // once per stated fact kind
                foreach (var kind in doc.FactKinds)
                    Assert.Contains($"{KeyedTemplates.Key(kind, r)} {RecordTemplates.Answer(kind, r)}", doc.Text, StringComparison.Ordinal);
            }
            Assert.Equal(headed.Document(i, 5).Records, doc.Records);
            Assert.Equal(headed.Questions(headed.Document(i, 5)).Select(q => q.Answer), bare.Questions(doc).Select(q => q.Answer));
        }
        Assert.Throws<ArgumentException>(() => new RecordsGenerator(RecordSplit.Train, 1, FactStyle.Varied, headers: false));
    }

    [Fact]
    public void NarrowingToAllKinds_LeavesDocumentsAsTheyWere()
    {
        var full = new RecordsGenerator(RecordSplit.HeldOut, 4, FactStyle.Keyed);
        var all = new RecordsGenerator(RecordSplit.HeldOut, 4, FactStyle.Keyed, Enum.GetValues<FactKind>().Length);
        Assert.Equal(full.Document(9, 5).Text, all.Document(9, 5).Text);
        Assert.Null(full.Document(9, 5).Kinds);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecordsGenerator(RecordSplit.Train, 1, FactStyle.Keyed, 11));
    }

    [Fact]
    public void KindPool_DrawsEveryDocumentsKindsFromIt_AndRefusesMoreKindsThanItHolds()
    {
        var gen = new RecordsGenerator(RecordSplit.Train, 1, FactStyle.Keyed, 1, [FactKind.Number]);
        for (var i = 0; i < 10; i++)
        {
            var doc = gen.Document(i, 5);
            Assert.Equal([FactKind.Number], doc.FactKinds);
            Assert.All(doc.Records, r => Assert.Contains($"{r.Last} number {r.Number}", doc.Text, StringComparison.Ordinal));
        }
        var two = new RecordsGenerator(RecordSplit.Train, 1, FactStyle.Keyed, 0, [FactKind.Ward, FactKind.Number, FactKind.Ward]);
        Assert.Equal([FactKind.Number, FactKind.Ward], two.Kinds);
        Assert.Equal([FactKind.Number, FactKind.Ward], two.Document(0, 3).FactKinds);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RecordsGenerator(RecordSplit.Train, 1, FactStyle.Keyed, 2, [FactKind.Number]));
        Assert.Contains("only 1 kinds to draw from (Number)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NameFirst_EveryFactSentenceOpensWithTheFullName_AndTheValueFollowsWithinAFewWords()
    {
        var doc = new RecordsGenerator(RecordSplit.Train, 3, FactStyle.NameFirst).Document(0, 6);
        var paragraphs = doc.Text.Split("\n\n")[1..];
        for (var r = 0; r < doc.Records.Count; r++)
        {
            var patient = doc.Records[r];
            foreach (var kind in Enum.GetValues<FactKind>())
            {
                var answer = RecordTemplates.Answer(kind, patient);
                // The drug also appears in the dose and start sentences: the closest one is the fact's own.
                var wordsBetween = paragraphs[r].Split(". ")
                    .Where(s => s.StartsWith(patient.Name, StringComparison.Ordinal) && s.Contains(" " + answer, StringComparison.Ordinal))
                    .Min(s => s[patient.Name.Length..s.IndexOf(" " + answer, StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
                Assert.InRange(wordsBetween, 0, 6);
            }
        }
    }

    [Fact]
    public void Answers_AreUnambiguousWithinADocument()
    {
        // Names identify one patient: first names and surnames are unique while the pools allow it.
        var doc = new RecordsGenerator(RecordSplit.Train, 1).Document(0, 40);
        Assert.Equal(40, doc.Records.Select(r => r.First).Distinct().Count());
        Assert.Equal(40, doc.Records.Select(r => r.Last).Distinct().Count());
        Assert.Equal(40, doc.Records.Select(r => r.Number).Distinct().Count());
    }

    [Fact]
    public void Splits_ShareNoDocument()
    {
        var texts = Splits.Select(s => Enumerable.Range(0, 200).Select(i => new RecordsGenerator(s, 1).Document(i, 3).Text).ToHashSet()).ToList();
        Assert.All(texts, t => Assert.Equal(200, t.Count));
        Assert.Empty(texts[0].Intersect(texts[1]));
        Assert.Empty(texts[0].Intersect(texts[2]));
        Assert.Empty(texts[1].Intersect(texts[2]));
    }

    [Fact]
    public void TemplateSplit_UsesOnlyTemplatesTrainingNeverUses()
    {
        foreach (var list in RecordTemplates.Facts.Values.Concat(RecordTemplates.Questions.Values).Append(RecordTemplates.Headers).Append(RecordTemplates.Notes))
        {
            var train = RecordTemplates.Range(list.Count, RecordSplit.Train);
            var held = RecordTemplates.Range(list.Count, RecordSplit.HeldOutTemplates);
            Assert.True(train.End <= held.Start && held.Start < held.End && train.Start < train.End);
            Assert.Equal(train, RecordTemplates.Range(list.Count, RecordSplit.HeldOut));
        }
        // Rendered text agrees: no training question template text appears among held-out-template questions.
        var trainQuestions = new RecordsGenerator(RecordSplit.Train, 1);
        var heldQuestions = new RecordsGenerator(RecordSplit.HeldOutTemplates, 1);
        var doc = trainQuestions.Document(0, 6);
        var a = trainQuestions.Questions(doc).Select(q => (q.Kind, q.Template)).ToHashSet();
        var b = heldQuestions.Questions(doc).Select(q => (q.Kind, q.Template)).ToHashSet();
        Assert.Empty(a.Intersect(b));
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public void DocumentOfTokens_IsTheShortestDocumentReachingTheTarget(int target)
    {
        var gen = new RecordsGenerator(RecordSplit.HeldOut, 1);
        var doc = gen.DocumentOfTokens(2, target);
        Assert.True(TokenEstimate.Count(doc.Text) >= target);
        Assert.True(TokenEstimate.Count(gen.Document(2, doc.Records.Count - 1).Text) < target);
    }
}
