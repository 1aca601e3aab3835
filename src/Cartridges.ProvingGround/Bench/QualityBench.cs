// `cartridges bench quality`: the paper's headline comparison on held-out records documents. For each length n and
// cartridge size p it scores exact-match accuracy of (a) the whole document in context, (b) the document cut to
// its first p tokens, (c) a cartridge trained by self-study + context distillation (the project's TrainPipeline,
// unmodified), (d) a cartridge trained by next-token prediction on the document, (e) the initialised, untrained
// cartridge, (f) two documents' cartridges composed and asked about both; plus each method's KV bytes per user
// and its decode throughput with the same number of concurrent users.
using System.Diagnostics;
using System.Text.Json;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.ProvingGround.Pretraining;
using Cartridges.ProvingGround.Records;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;
using Cartridges.Training.Pipeline;
using Cartridges.Training.Synthesis;
using TorchSharp;

namespace Cartridges.ProvingGround.Bench;

/// <summary>Runs the quality / memory / throughput sweep for one model.</summary>
public sealed class QualityBench(string modelDir, QualityBenchOptions options, string workDir, Action<string>? log = null)
{
    readonly Action<string> _log = log ?? (_ => { });

    sealed record Doc(RecordsDocument Document, IReadOnlyList<RecordsQuestion> Questions, string Dir);

    /// <summary>Runs every measurement; rows in the order icl, then per p: truncation, init, ntp, cartridge; then compose.</summary>
    public async Task<IReadOnlyList<QualityRow>> RunAsync(CancellationToken ct = default)
    {
        options.Validate();
        torch.set_num_threads(options.Threads);
        var tokenizer = HfTokenizer.Load(modelDir);
        using var engine = await GenerationEngine.LoadAsync(modelDir, new EngineOptions { MaxBatch = Math.Max(8, options.Users) }, "cpu");
        var config = engine.Model.Config;
        var kvPerToken = engine.Model.KvBytesPerToken;
        var probe = new AccuracyProbe(tokenizer, Generator());
        var throughput = new Dictionary<int, double>();
        async Task<double> Tps(int kvTokens)
        {
            if (!throughput.TryGetValue(kvTokens, out var tps))
                throughput[kvTokens] = tps = await DecodeThroughputAsync(engine, tokenizer, kvTokens, ct);
            return tps;
        }

        var rows = new List<QualityRow>();
        foreach (var n in options.Lengths)
        {
            ct.ThrowIfCancellationRequested();
            var docs = Documents(tokenizer, n);
            var questions = docs.Sum(d => d.Questions.Count);
            _log($"n={n}: {docs.Count} held-out documents of {string.Join("/", docs.Select(d => d.Document.Records.Count))} records, {questions} questions");

            // (a) whole document in context, in the chat format the model was trained on.
            var iclTokens = (int)Math.Round(docs.Average(d => ContextTokens(tokenizer, d.Document.Text, d.Questions[0].Text)));
            var iclItems = docs.SelectMany(d => d.Questions.Select(q => ((IReadOnlyList<int>)RecordsChat.EncodeFirstPrompt(tokenizer, d.Document.Text, q.Text), q.Answer))).ToList();
            if (iclItems.Max(i => i.Item1.Count) + options.MaxTurnTokens <= config.MaxPositionEmbeddings)
                rows.Add(Row("icl", n, iclTokens, await engine.RunAsync(m => probe.ExactMatch(m, iclItems)), kvPerToken, await Tps(iclTokens), questions));
            else
                _log($"n={n}: the document does not fit the model's context of {config.MaxPositionEmbeddings}; no icl row");

            foreach (var p in options.Fractions.Select(f => n / f).Distinct())
            {
                ct.ThrowIfCancellationRequested();
                // (b) the document's first p tokens in context, in the ICL prompt; its KV also holds that prompt's fixed
                // system text, so truncation keeps more memory than a cartridge of p tokens (the favourable side).
                var truncated = docs.Select(d => (d, Text: tokenizer.Decode(tokenizer.Encode(d.Document.Text).Take(p).ToArray()))).ToList();
                var truncItems = truncated.SelectMany(t => t.d.Questions.Select(q => ((IReadOnlyList<int>)RecordsChat.EncodeFirstPrompt(tokenizer, t.Text, q.Text), q.Answer))).ToList();
                var truncTokens = (int)Math.Round(truncated.Average(t => ContextTokens(tokenizer, t.Text, t.d.Questions[0].Text)));
                rows.Add(Row("truncation", n, truncTokens, await engine.RunAsync(m => probe.ExactMatch(m, truncItems)), kvPerToken, await Tps(truncTokens), questions));

                // (e) the cartridge as initialised (first p tokens of the corpus's system turn), never trained.
                var init = await CartridgeAccuracyAsync(engine, probe, tokenizer, docs, d => TrainedFile(d, "init", p), (d, file) => engine.RunAsync(m =>
                {
                    using var c = CartridgeInitializer.FromText(m, tokenizer, d.Document.Text, p);
                    CartridgeFile.Save(file, c, CartridgeMetadata.For(modelDir, m.Config, c));
                    return 0;
                }));
                rows.Add(Row("init", n, p, init, kvPerToken, await Tps(p), questions));

                // (d) next-token prediction on the document, (c) self-study + context distillation.
                foreach (var objective in new[] { "ntp", "distill" })
                {
                    var accuracy = await CartridgeAccuracyAsync(engine, probe, tokenizer, docs, d => TrainedFile(d, objective, p),
                        (d, file) => TrainAsync(engine, tokenizer, d, p, objective, file, ct));
                    rows.Add(Row(objective == "distill" ? "cartridge" : "ntp", n, p, accuracy, kvPerToken, await Tps(p), questions));
                }
            }

            // (f) composition: pairs of documents, each cartridge trained alone, asked about both; beside it the same
            // questions with both documents in context (what composition should approach).
            var cp = n / options.ComposeFraction;
            if (docs.Count >= 2 && options.Fractions.Contains(options.ComposeFraction))
            {
                var pairs = Enumerable.Range(0, docs.Count / 2).Select(i => (A: docs[2 * i], B: docs[2 * i + 1])).ToList();
                var bothText = pairs.Select(pair => pair.A.Document.Text + "\n\n" + pair.B.Document.Text).ToList();
                var bothItems = pairs.SelectMany((pair, i) => AskedOfPair(pair.A, pair.B)
                    .Select(q => ((IReadOnlyList<int>)RecordsChat.EncodeFirstPrompt(tokenizer, bothText[i], q.Text), q.Answer))).ToList();
                if (bothItems.Max(i => i.Item1.Count) + options.MaxTurnTokens <= config.MaxPositionEmbeddings)
                {
                    var bothTokens = (int)Math.Round(pairs.Select((pair, i) => ContextTokens(tokenizer, bothText[i], pair.A.Questions[0].Text)).Average());
                    rows.Add(Row("icl-both", n, bothTokens, await engine.RunAsync(m => probe.ExactMatch(m, bothItems)), kvPerToken, await Tps(bothTokens), bothItems.Count));
                }
                else
                {
                    _log($"n={n}: two documents do not fit the model's context of {config.MaxPositionEmbeddings}; no icl-both row");
                }

                // As served (the question after both cartridges), then with the question where each cartridge was trained
                // to see it (right after p tokens): the gap between the two is what positions cost a composition.
                foreach (var shared in new[] { false, true })
                {
                    var correct = 0;
                    var total = 0;
                    foreach (var (a, b) in pairs)
                    {
                        var items = AskedOfPair(a, b).Select(q => ((IReadOnlyList<int>)tokenizer.Encode(RecordsChat.NextPrompt(q.Text), specialTokens: true), q.Answer)).ToList();
                        var acc = await engine.RunAsync(m =>
                        {
                            using var ca = LoadPrefix(m, TrainedFile(a, "distill", cp));
                            using var cb = LoadPrefix(m, TrainedFile(b, "distill", cp));
                            return probe.ExactMatch(m, items, prefix: PrefixSegment.Compose([ca, cb]), sharedPositions: shared);
                        });
                        correct += (int)Math.Round(acc * items.Count);
                        total += items.Count;
                    }
                    // The second cartridge's sink is dropped when composing: 2p - 1 tokens of KV.
                    rows.Add(Row(shared ? "compose-shared-pos" : "compose", n, 2 * cp - 1, (double)correct / total, kvPerToken, await Tps(2 * cp - 1), total));
                }

                // The control: one cartridge of the same KV trained on both documents, with both cartridges' budget.
                if (options.Joint)
                {
                    var joint = pairs.Select((pair, i) => JointDoc(n, i, pair.A, pair.B, bothText[i])).ToList();
                    var accuracy = await CartridgeAccuracyAsync(engine, probe, tokenizer, joint, d => TrainedFile(d, "distill", 2 * cp - 1),
                        (d, file) => TrainAsync(engine, tokenizer, d, 2 * cp - 1, "distill", file, ct, budgetScale: 2));
                    rows.Add(Row("joint", n, 2 * cp - 1, accuracy, kvPerToken, await Tps(2 * cp - 1), joint.Sum(d => d.Questions.Count)));
                }
            }
        }
        return rows;
    }

    // Questions of two documents asked together, less those about a patient both documents name alike (keyed documents
    // name patients by surname, and two documents drawn independently share many surnames): those have two answers.
    IEnumerable<RecordsQuestion> AskedOfPair(Doc a, Doc b)
    {
        string Key(Doc d, int record) => options.Facts.IsKeyed() ? d.Document.Records[record].Last : d.Document.Records[record].Name;
        var inA = a.Document.Records.Select((_, i) => Key(a, i)).ToHashSet();
        var inB = b.Document.Records.Select((_, i) => Key(b, i)).ToHashSet();
        return a.Questions.Where(q => !inB.Contains(Key(a, q.Record))).Concat(b.Questions.Where(q => !inA.Contains(Key(b, q.Record))));
    }

    // A pair's two documents as one corpus, asked the pair's composition questions.
    Doc JointDoc(int n, int pair, Doc a, Doc b, string text)
    {
        var dir = Path.Combine(workDir, $"n{n}-pair{pair}");
        Directory.CreateDirectory(dir);
        var id = $"{a.Document.Id}+{b.Document.Id}";
        Claim(dir, id);
        return new Doc(a.Document with { Id = id, Text = text, Records = [.. a.Document.Records, .. b.Document.Records] }, [.. AskedOfPair(a, b)], dir);
    }

    static QualityRow Row(string method, int n, int p, double accuracy, long kvPerToken, double tps, int questions) =>
        new(method, n, p, accuracy, p * kvPerToken, tps, questions);

    // Held-out documents as the model was trained on them (its fact kinds, facts per record, headers).
    RecordsGenerator Generator() => RecordsModelInfo.GeneratorFor(modelDir, RecordSplit.HeldOut, options.Seed, options.Facts);

    List<Doc> Documents(HfTokenizer tokenizer, int n)
    {
        var generator = Generator();
        var docs = new List<Doc>();
        for (var i = 0; i < options.Documents; i++)
        {
            var index = 9_000_000L + n * 100L + i;
            var doc = generator.DocumentOfTokens(index, n, t => tokenizer.Encode(t).Count);
            var rng = generator.StreamRng("bench-quality", index);
            var questions = Enumerable.Range(0, options.QuestionsPerDocument)
                .Select(_ => generator.Question(rng, doc, rng.Next(doc.Records.Count), doc.FactKinds[rng.Next(doc.FactKinds.Count)])).ToList();
            var dir = Path.Combine(workDir, $"n{n}-doc{i}");
            Directory.CreateDirectory(dir);
            Claim(dir, doc.Id);
            docs.Add(new Doc(doc, questions, dir));
        }
        return docs;
    }

    // A work directory's cartridges are reused by a later run (they are the expensive part); only a run with the same
    // model, document and training settings may reuse them, or the table would silently mix settings.
    void Claim(string dir, string documentId)
    {
        var settings = JsonSerializer.Serialize(new
        {
            model = Path.GetFullPath(modelDir),
            document = documentId,
            facts = options.Facts.ToString(),
            options.Conversations,
            options.Steps,
            options.BatchSize,
            options.LearningRate,
            options.MaxTurnTokens,
            options.ChunkTokens,
            options.QuestionTemperature,
            options.ConversationsPerChunk,
            options.Seed,
        });
        var file = Path.Combine(dir, "settings.json");
        if (File.Exists(file) && File.ReadAllText(file) != settings)
            throw new ArgumentException($"{dir} holds cartridges made with other settings ({File.ReadAllText(file)}); use another --work-dir or delete it.");
        File.WriteAllText(file, settings);
    }

    // KV tokens in front of the question: everything the first prompt holds before its user turn.
    static int ContextTokens(HfTokenizer tokenizer, string documentText, string question) =>
        RecordsChat.EncodeFirstPrompt(tokenizer, documentText, question).Count - tokenizer.Encode(RecordsChat.NextPrompt(question), specialTokens: true).Count;

    static string TrainedFile(Doc d, string objective, int p) => Path.Combine(d.Dir, $"{objective}-p{p}.safetensors");

    static KvPrefix LoadPrefix(TransformerModel m, string file)
    {
        var (cartridge, _) = CartridgeFile.Load(file, m.Config, m.DType, m.Device);
        using (cartridge) return cartridge.ToServingPrefix();
    }

    static async Task<double> CartridgeAccuracyAsync(GenerationEngine engine, AccuracyProbe probe, HfTokenizer tokenizer, IReadOnlyList<Doc> docs,
        Func<Doc, string> file, Func<Doc, string, Task> make)
    {
        var correct = 0;
        var total = 0;
        foreach (var d in docs)
        {
            var path = file(d);
            if (!File.Exists(path)) await make(d, path);
            var items = d.Questions.Select(q => ((IReadOnlyList<int>)tokenizer.Encode(RecordsChat.NextPrompt(q.Text), specialTokens: true), q.Answer)).ToList();
            var acc = await engine.RunAsync(m =>
            {
                using var prefix = LoadPrefix(m, path);
                return probe.ExactMatch(m, items, prefix: [new PrefixSegment(prefix, 0)]);
            });
            correct += (int)Math.Round(acc * items.Count);
            total += items.Count;
        }
        return (double)correct / total;
    }

    async Task TrainAsync(GenerationEngine engine, HfTokenizer tokenizer, Doc d, int p, string objective, string output, CancellationToken ct, int budgetScale = 1)
    {
        var clock = Stopwatch.StartNew();
        var whole = tokenizer.Encode(d.Document.Text).Count + 16;
        var chunk = options.ChunkTokens > 0 ? Math.Min(options.ChunkTokens, whole) : whole;
        var conversations = options.Conversations * budgetScale;
        var perShard = Math.Max(8, conversations / 8);
        var pipeline = new TrainPipelineOptions
        {
            ModelName = modelDir,
            Corpus = d.Document.Text,
            Tokens = p,
            Objective = objective,
            // The teacher sees a chunk of the document, or the whole (a shorter corpus than the chunk length is used whole).
            Synthesis = new SynthesisOptions
            {
                Conversations = conversations,
                ConversationsPerShard = perShard,
                EvalShards = 1,
                Seed = (ulong)options.Seed,
                SelfStudy = new SelfStudyOptions
                {
                    ChunkMinTokens = chunk,
                    ChunkMaxTokens = chunk,
                    QuestionTemperature = options.QuestionTemperature,
                    MaxQuestionTokens = options.MaxTurnTokens,
                    MaxAnswerTokens = options.MaxTurnTokens,
                    ConversationsPerChunk = Math.Min(options.ConversationsPerChunk, perShard),
                },
            },
            DataDirectory = Path.Combine(d.Dir, "data"),
            Trainer = new TrainerOptions
            {
                Steps = options.Steps * budgetScale,
                GlobalBatchSize = options.BatchSize,
                MicroBatchSize = Math.Min(options.BatchSize, 8),
                LearningRate = options.LearningRate,
                Seed = options.Seed,
            },
            Output = output,
        };
        var report = await TrainPipeline.RunAsync(engine, tokenizer, pipeline, ct: ct);
        _log($"  {Path.GetFileName(d.Dir)} {objective} p={p}: held-out distillation loss {report.Eval.Cartridge.Loss:F3} (init {report.Eval.Init.Loss:F3}, " +
             $"truncation {report.Eval.Truncation.Loss:F3}{(report.Eval.Icl is { } icl ? $", icl {icl.Loss:F3}" : "")}), {clock.Elapsed.TotalSeconds:F0} s");
    }

    // Decode tokens per second of Users concurrent requests, each behind its own prefix of kvTokens tokens (the
    // prefix's prefill is done before timing, which favours in-context learning).
    async Task<double> DecodeThroughputAsync(GenerationEngine engine, HfTokenizer tokenizer, int kvTokens, CancellationToken ct)
    {
        var rng = new Random(kvTokens);
        var ids = new List<string>();
        for (var u = 0; u < options.Users; u++)
        {
            var id = $"bench-quality-{kvTokens}-{u}";
            await engine.RegisterPrefixFromTokensAsync(id, Enumerable.Range(0, kvTokens).Select(_ => rng.Next(256, tokenizer.VocabSize - 8)).ToArray());
            ids.Add(id);
        }
        var prompt = tokenizer.Encode(RecordsChat.NextPrompt("Which ward is the patient in?"), specialTokens: true);
        GenerationRequest Request(string id, int max) => new() { Prompt = prompt, PrefixIds = [id], Sampling = new SamplingParams { MaxTokens = max } };
        // Warm-up at full size: the first run grows the KV cache and the allocator.
        await Task.WhenAll(ids.Select(id => engine.GenerateAsync(Request(id, options.DecodeTokens), ct)));
        // Median of three timed rounds: the machine is shared, single rounds of a small model are noisy.
        var rounds = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            var results = await Task.WhenAll(ids.Select(id => engine.GenerateAsync(Request(id, options.DecodeTokens), ct)));
            rounds.Add(results.Sum(r => r.Tokens.Count) / clock.Elapsed.TotalSeconds);
        }
        foreach (var id in ids) await engine.UnregisterPrefixAsync(id);
        return rounds.Order().ElementAt(1);
    }
}
