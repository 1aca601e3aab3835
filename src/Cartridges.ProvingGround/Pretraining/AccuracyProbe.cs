// Exact-match accuracy of the records model on held-out documents, with the document in the system turn and
// without it (the second must stay near chance: the model reads, it does not memorise). Scored teacher-forced:
// a question counts when the arg-max at every reply position (answer tokens and the end of turn) is the reference
// token, which is exactly when greedy decoding would produce the answer and stop.
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.ProvingGround.Records;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Accuracy of one probe setting.</summary>
/// <param name="Records">Records per document.</param>
/// <param name="MeanTokens">Mean prompt length in tokens (with the document).</param>
/// <param name="WithDocument">Exact match with the document in context.</param>
/// <param name="WithoutDocument">Exact match with an empty document.</param>
/// <param name="Questions">Questions scored.</param>
/// <param name="ByKind">Exact match with the document per fact kind asked (what the model reads and what it doesn't).</param>
public sealed record ProbeResult(int Records, double MeanTokens, double WithDocument, double WithoutDocument, int Questions,
    IReadOnlyDictionary<FactKind, double>? ByKind = null);

/// <summary>Scores exact match on a fixed set of held-out questions.</summary>
public sealed class AccuracyProbe(HfTokenizer tokenizer, RecordsGenerator generator)
{
    /// <summary>A probe over documents of <paramref name="split"/> in the given wording.</summary>
    public AccuracyProbe(HfTokenizer tokenizer, RecordSplit split = RecordSplit.HeldOut, int seed = 1, FactStyle style = FactStyle.Varied, int factsPerRecord = 0,
        IReadOnlyList<FactKind>? kinds = null)
        : this(tokenizer, new RecordsGenerator(split, seed, style, factsPerRecord, kinds))
    {
    }

    readonly RecordsGenerator _generator = generator;

    /// <summary>The wording of the probe's documents.</summary>
    public FactStyle Style => _generator.Style;

    /// <summary>The probe's questions for documents of <paramref name="records"/> patients: one per document, kinds cycling.</summary>
    public IReadOnlyList<(RecordsDocument Doc, RecordsQuestion Question)> Items(int records, int count)
    {
        var items = new List<(RecordsDocument, RecordsQuestion)>();
        for (var i = 0; i < count; i++)
        {
            var doc = _generator.Document(records * 100_000 + i, records);
            var rng = _generator.StreamRng("probe", records * 100_000 + i);
            items.Add((doc, _generator.Question(rng, doc, rng.Next(records), doc.FactKinds[i % doc.FactKinds.Count])));
        }
        return items;
    }

    /// <summary>Scores documents of <paramref name="records"/> patients, with and without the document.</summary>
    public ProbeResult Run(TransformerModel model, int records, int count, int batchTokens = 16384)
    {
        var items = Items(records, count);
        var with = items.Select(x => (RecordsChat.EncodeFirstPrompt(tokenizer, x.Doc.Text, x.Question.Text), x.Question.Answer)).ToList();
        var without = items.Select(x => (RecordsChat.EncodeFirstPrompt(tokenizer, "", x.Question.Text), x.Question.Answer)).ToList();
        return new ProbeResult(records, with.Average(w => w.Item1.Count), ExactMatch(model, with, batchTokens), ExactMatch(model, without, batchTokens), count);
    }

    /// <summary>Scores documents of about <paramref name="targetTokens"/> tokens (one question per document).</summary>
    public ProbeResult RunByTokens(TransformerModel model, int targetTokens, int count, int batchTokens = 16384)
    {
        var items = new List<(RecordsDocument Doc, RecordsQuestion Question)>();
        for (var i = 0; i < count; i++)
        {
            var doc = _generator.DocumentOfTokens(5_000_000 + targetTokens * 1000L + i, targetTokens, t => tokenizer.Encode(t).Count);
            var rng = _generator.StreamRng("probe-tokens", targetTokens * 1000L + i);
            items.Add((doc, _generator.Question(rng, doc, rng.Next(doc.Records.Count), doc.FactKinds[i % doc.FactKinds.Count])));
        }
        var with = items.Select(x => (RecordsChat.EncodeFirstPrompt(tokenizer, x.Doc.Text, x.Question.Text), x.Question.Answer)).ToList();
        var without = items.Select(x => (RecordsChat.EncodeFirstPrompt(tokenizer, "", x.Question.Text), x.Question.Answer)).ToList();
        var correct = Correct(model, with, batchTokens);
        var byKind = items.Select((x, i) => (x.Question.Kind, Ok: correct[i])).GroupBy(x => x.Kind)
            .ToDictionary(g => g.Key, g => g.Average(x => x.Ok ? 1.0 : 0.0));
        return new ProbeResult((int)Math.Round(items.Average(x => x.Doc.Records.Count)), with.Average(w => w.Item1.Count),
            correct.Average(c => c ? 1.0 : 0.0), ExactMatch(model, without, batchTokens), count, byKind);
    }

    /// <summary>
    /// Recall drills on held-out keyed documents of <paramref name="records"/> patients (the document, then every fact
    /// restated): the share of restated values whose every token is the arg-max, per fact kind — the key-matching
    /// circuit on its own, without a question's wording.
    /// </summary>
    public IReadOnlyDictionary<FactKind, double> DrillExactMatch(TransformerModel model, SequenceBuilder builder, int records, int documents)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(builder);
        var hits = new Dictionary<FactKind, (int Ok, int All)>();
        for (var i = 0; i < documents; i++)
        {
            var doc = _generator.Document(7_000_000 + records * 1000L + i, records);
            var order = builder.DrillFacts(doc, new Random(i));
            var seq = builder.DrillSequence(doc, new Random(i));
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var hidden = model.Forward(new ForwardBatch { Tokens = tensor(seq.Tokens.Select(t => (long)t).ToArray(), device: model.Device).view(1, -1) });
            var predicted = model.Logits(hidden[0]).argmax(-1).cpu().data<long>().ToArray();
            var value = 0;
            for (var p = 1; p < seq.Length;)
            {
                if (seq.Weights[p] != 1f) { p++; continue; }
                var ok = true;
                for (; p < seq.Length && seq.Weights[p] == 1f; p++) ok &= predicted[p - 1] == seq.Tokens[p];
                var kind = order[value++].Kind;
                var (o, a) = hits.GetValueOrDefault(kind);
                hits[kind] = (o + (ok ? 1 : 0), a + 1);
            }
        }
        return hits.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Ok / kv.Value.All);
    }

    /// <summary>
    /// Share of (prompt, answer) pairs whose reply greedy decoding reproduces exactly; with <paramref name="prefix"/>
    /// (a cartridge or several), every prompt follows that KV prefix, as a served question does; with
    /// <paramref name="sharedPositions"/> composed prefixes share positions (see <see cref="ForwardBatch.SharedPrefixPositions"/>).
    /// </summary>
    public double ExactMatch(TransformerModel model, IReadOnlyList<(IReadOnlyList<int> Prompt, string Answer)> items, int batchTokens = 16384,
        IReadOnlyList<PrefixSegment>? prefix = null, bool sharedPositions = false) =>
        items.Count == 0 ? 0 : Correct(model, items, batchTokens, prefix, sharedPositions).Average(c => c ? 1.0 : 0.0);

    /// <summary>Per item: whether greedy decoding reproduces its answer exactly (see <see cref="ExactMatch"/>).</summary>
    public bool[] Correct(TransformerModel model, IReadOnlyList<(IReadOnlyList<int> Prompt, string Answer)> items, int batchTokens = 16384,
        IReadOnlyList<PrefixSegment>? prefix = null, bool sharedPositions = false)
    {
        var correct = new List<bool>(items.Count);
        var i = 0;
        while (i < items.Count)
        {
            var batch = new List<(int[] Tokens, int PromptLength)>();
            var longest = 0;
            while (i < items.Count)
            {
                var reply = tokenizer.Encode(RecordsChat.Reply(items[i].Answer), specialTokens: true);
                int[] seq = [.. items[i].Prompt, .. reply];
                if (batch.Count > 0 && Math.Max(longest, seq.Length) * (batch.Count + 1) > batchTokens) break;
                batch.Add((seq, items[i].Prompt.Count));
                longest = Math.Max(longest, seq.Length);
                i++;
            }
            correct.AddRange(CorrectInBatch(model, batch, longest, prefix, sharedPositions));
        }
        return [.. correct];
    }

    static List<bool> CorrectInBatch(TransformerModel model, List<(int[] Tokens, int PromptLength)> batch, int t, IReadOnlyList<PrefixSegment>? prefix,
        bool sharedPositions)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = new long[batch.Count * t];
        for (var b = 0; b < batch.Count; b++)
            for (var j = 0; j < t; j++) ids[b * t + j] = batch[b].Tokens[Math.Min(j, batch[b].Tokens.Length - 1)];
        var hidden = model.Forward(new ForwardBatch
        {
            Tokens = tensor(ids, device: model.Device).view(batch.Count, t),
            Prefixes = prefix is null ? null : Enumerable.Repeat(prefix, batch.Count).ToArray(),
            SharedPrefixPositions = sharedPositions,
        });
        var correct = new List<bool>(batch.Count);
        for (var b = 0; b < batch.Count; b++)
        {
            var (tokens, promptLength) = batch[b];
            // Positions promptLength-1 .. end-2 predict the reply tokens promptLength .. end-1.
            var rows = hidden[b].narrow(0, promptLength - 1, tokens.Length - promptLength);
            var predicted = model.Logits(rows).argmax(-1).cpu().data<long>().ToArray();
            var ok = true;
            for (var k = 0; k < predicted.Length && ok; k++) ok = predicted[k] == tokens[promptLength + k];
            correct.Add(ok);
        }
        return correct;
    }
}
