using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.ProvingGround.Pretraining;
using Cartridges.ProvingGround.Records;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Tests.Pretraining;

public sealed class PretrainingTests
{
    static readonly PretrainRecipe Tiny = PretrainRecipe.Named("tiny");

    static (TransformerModel Model, HfTokenizer Tokenizer) NewModel(PretrainRecipe recipe)
    {
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var config = RecordsModelConfig.Create(recipe, tokenizer.VocabSize, tokenizer.BosId!.Value, tokenizer.EosId!.Value);
        var init = RecordsModelConfig.InitialWeights(config, recipe.Seed);
        var model = TransformerModel.FromTensors(config, init, CPU, ScalarType.Float32);
        foreach (var t in init.Values) t.Dispose();
        return (model, tokenizer);
    }

    [Fact]
    public void SequenceBuilder_WeighsAnswersFully_AndEndsEachReplyWithEndOfTurn()
    {
        var (model, tokenizer) = NewModel(Tiny);
        using var _ = model;
        var gen = new RecordsGenerator(RecordSplit.Train, 1);
        var doc = gen.Document(0, 3);
        var recipe = Tiny with { AskTurnProbability = 0, ContextLossWeight = 0.1f };
        var seq = new SequenceBuilder(tokenizer, recipe).Build(gen, doc, new Random(1));
        var eot = tokenizer.EncodeSpecial("<|eot_id|>");
        var full = Enumerable.Range(0, seq.Length).Where(i => seq.Weights[i] == 1f).ToList();
        Assert.Equal(SequenceBuilder.TurnsFor(3, recipe.QuestionsPerRecord), full.Count(i => seq.Tokens[i] == eot));
        Assert.All(Enumerable.Range(0, seq.Length).Except(full), i => Assert.Equal(0.1f, seq.Weights[i]));
        // Every fully weighted token is a value of the document or the reply's end of turn.
        var docTokens = tokenizer.Encode(doc.Text).ToHashSet();
        Assert.All(full, i => Assert.True(seq.Tokens[i] == eot || docTokens.Contains(seq.Tokens[i])));
    }

    [Fact]
    public void CopySequence_RepeatsItsWords_AndPredictsOnlyTheRepeat()
    {
        var (model, tokenizer) = NewModel(Tiny);
        using var _ = model;
        var seq = new SequenceBuilder(tokenizer, Tiny).CopySequence(new Random(3), 20);
        Assert.Equal(41, seq.Length);
        Assert.Equal(tokenizer.BosId, seq.Tokens[0]);
        Assert.Equal(seq.Tokens[1..21], seq.Tokens[21..]);
        Assert.All(seq.Tokens[1..], t => Assert.InRange(t, 256, tokenizer.VocabSize - 6));
        // Predicting the first repeated word is a guess; from the second on, copying is possible.
        Assert.Equal(Enumerable.Range(0, 41).Select(i => i > 21 ? 1f : 0f), seq.Weights);
        var recipe = Tiny with { CopySequencesPerStep = 2 };
        var batch = new BatchSampler(new SequenceBuilder(tokenizer, recipe), recipe).Batch(0);
        Assert.Equal(2, batch.Count(s => s.Tokens[1..(s.Length / 2 + 1)].SequenceEqual(s.Tokens[(s.Length / 2 + 1)..])));
    }

    [Fact]
    public void FewSteps_LowerTheLoss()
    {
        var recipe = Tiny with { LearningRate = 1e-2, WarmupSteps = 1, Steps = 30 };
        var (model, tokenizer) = NewModel(recipe);
        using var _ = model;
        var sampler = new BatchSampler(new SequenceBuilder(tokenizer, recipe), recipe);
        var batch = sampler.Batch(0);
        using var trainer = new FullParameterTrainer(model, recipe);
        double Eval()
        {
            using var scope = NewDisposeScope();
            using var ng = no_grad();
            return trainer.Loss(batch).item<float>();
        }
        var before = Eval();
        for (var s = 0; s < 8; s++) trainer.Step(batch, s);
        var after = Eval();
        Assert.True(after < before - 0.5, $"loss {before:F3} -> {after:F3}");
    }

    [Fact]
    public void Backward_ReachesEveryWeight()
    {
        var recipe = Tiny with { Layers = 2 };
        var (model, tokenizer) = NewModel(recipe);
        using var _ = model;
        using var trainer = new FullParameterTrainer(model, recipe);
        var batch = new BatchSampler(new SequenceBuilder(tokenizer, recipe), recipe).Batch(0);
        using (var scope = NewDisposeScope()) trainer.Loss(batch).backward();
        foreach (var (name, w) in model.NamedTensors())
        {
            Assert.True(w.grad is not null, $"{name} has no gradient");
            Assert.True(w.grad!.abs().sum().item<float>() > 0, $"{name} has a zero gradient");
        }
    }

    [Fact]
    public void Checkpoint_ResumesBitExactly()
    {
        var recipe = Tiny with { Steps = 4, ProbeEvery = 0, CheckpointEvery = 2 };
        var straight = TinyModelDir.Fresh();
        var resumed = TinyModelDir.Fresh();
        new Pretrainer(recipe, straight).Run(resume: false);
        new Pretrainer(recipe, resumed).Run(resume: false, stopAt: 2);
        new Pretrainer(recipe, resumed).Run(resume: true);
        var a = File.ReadAllBytes(Path.Combine(straight, "checkpoint", PretrainCheckpoint.FileName));
        var b = File.ReadAllBytes(Path.Combine(resumed, "checkpoint", PretrainCheckpoint.FileName));
        Assert.Equal(a, b);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(resumed, "model.safetensors")));
    }

    [Fact]
    public void Checkpoint_LoadsBackTheSavedTensors()
    {
        var recipe = Tiny;
        var (model, _) = NewModel(recipe);
        using var m = model;
        using var trainer = new FullParameterTrainer(model, recipe);
        var dir = TinyModelDir.Fresh();
        PretrainCheckpoint.Save(dir, model, trainer.Optimizer, 7, "r");
        var (other, _) = NewModel(recipe with { Seed = 99 });
        using var o = other;
        using var otherTrainer = new FullParameterTrainer(other, recipe);
        Assert.Equal(7, PretrainCheckpoint.Load(dir, other, otherTrainer.Optimizer, "r"));
        foreach (var ((_, x), (_, y)) in model.NamedTensors().Zip(other.NamedTensors()))
            Assert.True(x.eq(y).all().item<bool>());
        Assert.Throws<InvalidDataException>(() => PretrainCheckpoint.Load(dir, other, otherTrainer.Optimizer, "another recipe"));
    }

    [Fact]
    public void Pretrainer_WritesALoadableModelDirectory_AndRefusesToOverwriteARun()
    {
        var dir = TinyModelDir.Fresh();
        new Pretrainer(Tiny with { Steps = 3, ProbeEvery = 3, CheckpointEvery = 3, ProbeQuestions = 2 }, dir).Run(resume: false);
        var tokenizer = HfTokenizer.Load(dir);
        using var model = TransformerModel.Load(dir, CPU);
        Assert.Equal("LlamaForCausalLM", model.Config.Architectures[0]);
        Assert.True(model.Config.VocabSize >= tokenizer.VocabSize);
        Assert.True(new FileInfo(Path.Combine(dir, "model.safetensors")).Length < 16 << 20);
        Assert.Contains("em_with_doc", File.ReadAllText(Path.Combine(dir, Pretrainer.CurveFile)), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => new Pretrainer(Tiny, dir).Run(resume: false));
    }

    [Fact]
    public void BatchSampler_IsAFunctionOfTheStep()
    {
        var (model, tokenizer) = NewModel(Tiny);
        using var _ = model;
        var a = new BatchSampler(new SequenceBuilder(tokenizer, Tiny), Tiny).Batch(5);
        var b = new BatchSampler(new SequenceBuilder(tokenizer, Tiny), Tiny).Batch(5);
        Assert.Equal(a.SelectMany(s => s.Tokens), b.SelectMany(s => s.Tokens));
        Assert.True(a.Sum(s => s.Length) <= Math.Max(Tiny.TokensPerStep, a[0].Length));
    }

    [Fact]
    public void AnExportedModel_TellsItsDocuments_ToTheCommandsThatBuildThemForIt()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pg-info-{Guid.NewGuid():N}");
        try
        {
            var recipe = Tiny with
            {
                Facts = FactStyle.Keyed,
                FactsPerRecord = 1,
                FactKinds = [FactKind.Number],
                NoRecordHeaders = true,
                Steps = 1,
                ProbeEvery = 0,
                CheckpointEvery = 1,
            };
            new Pretrainer(recipe, dir).Run(resume: false);
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(recipe with { Steps = 0, ProbeEvery = 0, CheckpointEvery = 0, ProbeQuestions = 0 }),
                System.Text.Json.JsonSerializer.Serialize(RecordsModelInfo.RecipeOf(dir)));

            var doc = RecordsModelInfo.GeneratorFor(dir, RecordSplit.HeldOut, 3, FactStyle.Keyed).Document(0, 4);
            Assert.Equal([FactKind.Number], doc.FactKinds);
            Assert.DoesNotContain("Patient ", doc.Text.Split('.', 2)[1], StringComparison.Ordinal); // no header after the title
            // Another wording than the model's gets the full documents.
            Assert.Equal(10, RecordsModelInfo.GeneratorFor(dir, RecordSplit.HeldOut, 3, FactStyle.Varied).Document(0, 4).FactKinds.Count);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MixedSizes_GivesEveryDocumentOfAStepItsOwnRecordCount_WithinTheStepsRange()
    {
        var (model, tokenizer) = NewModel(Tiny);
        using var _ = model;
        // Drills over patient numbers: each record is one predicted token, so a sequence's weights count its records.
        var recipe = PretrainRecipe.Keyed with
        {
            FactsPerRecord = 1,
            FactKinds = [FactKind.Number],
            RecordsFloor = 2,
            StartRecords = 8,
            MaxRecords = 8,
            CurriculumGate = 0,
            DrillShare = 1,
            TokensPerStep = 4096,
            NoRecordHeaders = true,
        };
        static IReadOnlyList<int> Sizes(IEnumerable<TrainingSequence> batch) => batch.Select(s => s.Weights.Count(w => w == 1f)).ToList();
        for (var step = 0; step < 3; step++)
        {
            var one = Sizes(new BatchSampler(new SequenceBuilder(tokenizer, recipe), recipe).Batch(step));
            Assert.Single(one.Distinct());
            var mixed = Sizes(new BatchSampler(new SequenceBuilder(tokenizer, recipe with { MixedSizes = true }), recipe with { MixedSizes = true }).Batch(step));
            Assert.True(mixed.Distinct().Count() > 2, string.Join(",", mixed));
            Assert.All(mixed, n => Assert.InRange(n, 2, 8));
        }
    }

    [Theory]
    [InlineData(FactStyle.Varied)]
    [InlineData(FactStyle.NameFirst)]
    [InlineData(FactStyle.Keyed)]
    public void BatchSampler_WordsTheDocumentsAsTheRecipeSays(FactStyle style)
    {
        var recipe = Tiny with { Facts = style };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var sampler = new BatchSampler(new SequenceBuilder(tokenizer, recipe), recipe);
        var text = tokenizer.Decode(sampler.Batch(0)[0].Tokens);
        // The sampler's first document of step 0 is document 0 of the training stream, rendered in the recipe's style.
        var doc = new RecordsGenerator(RecordSplit.Train, recipe.Seed, style).Document(0, sampler.RecordsAt(0));
        Assert.Contains(doc.Text, text, StringComparison.Ordinal);
        var other = new RecordsGenerator(RecordSplit.Train, recipe.Seed, style == FactStyle.Varied ? FactStyle.NameFirst : FactStyle.Varied).Document(0, sampler.RecordsAt(0));
        Assert.DoesNotContain(other.Text, text, StringComparison.Ordinal);
    }

    [Fact]
    public void ChunkSequence_ShowsASliceOfTheDocument_AndAsksOnlyAboutFactsWholeInIt()
    {
        var recipe = Tiny with
        {
            Facts = FactStyle.KeyedNameNext,
            FactsPerRecord = 1,
            FactKinds = [FactKind.Number],
            KeyedNotes = true,
            NoRecordHeaders = true,
            ContextLossWeight = 0,
            ChunkShare = 1,
        };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var gen = recipe.Generator(RecordSplit.Train);
        var doc = gen.Document(3, 40);
        var builder = new SequenceBuilder(tokenizer, recipe);
        var asked = new HashSet<string>();
        var built = 0;
        for (var seed = 0; seed < 40; seed++)
        {
            if (builder.ChunkSequence(gen, doc, new Random(seed)) is not { } seq) continue;
            built++;
            var text = tokenizer.Decode(seq.Tokens);
            const string open = "<corpus>\n" + Cartridges.Training.Synthesis.TokenChunker.DefaultDescription + "\n\n";
            var from = text.IndexOf(open, StringComparison.Ordinal) + open.Length;
            var slice = text[from..text.IndexOf("\n</corpus>", StringComparison.Ordinal)];
            Assert.Contains(slice, doc.Text, StringComparison.Ordinal);
            Assert.InRange(tokenizer.Encode(slice).Count, PretrainRecipe.ChunkMinTokens - 2, PretrainRecipe.ChunkMaxTokens + 2);
            // The replies alternate: A's question, then its answer; each question is about a fact the slice holds whole.
            var replies = PredictedRuns(seq).Select(r => tokenizer.Decode(seq.Tokens[r], skipSpecial: true).Trim()).ToList();
            Assert.Equal(2 * SequenceBuilder.ChunkTurns, replies.Count);
            for (var t = 0; t < replies.Count; t += 2)
            {
                var record = doc.Records.Single(r => replies[t].Contains($" {r.Last}", StringComparison.Ordinal));
                Assert.Contains($"number {record.Last} {record.Number}", slice, StringComparison.Ordinal);
                Assert.Equal($"{record.Last} {record.Number}", replies[t + 1]);
                asked.Add(record.Last);
            }
        }
        Assert.True(built >= 30, $"only {built} of 40 slices held a whole fact");
        Assert.True(asked.Count >= 20, $"40 slices asked about only {asked.Count} of 40 patients");
    }

    [Fact]
    public void Chat_WithoutChunkShare_IsTheConversationBuildMakes()
    {
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var gen = new RecordsGenerator(RecordSplit.Train, 1, FactStyle.Keyed);
        var doc = gen.Document(0, 4);
        var builder = new SequenceBuilder(tokenizer, Tiny with { Facts = FactStyle.Keyed });
        Assert.Equal(builder.Build(gen, doc, new Random(7)).Tokens, builder.Chat(gen, doc, new Random(7)).Tokens);
    }

    [Theory]
    [InlineData(FactStyle.Keyed)]
    [InlineData(FactStyle.KeyedNameNext)]
    public void DrillSequence_RestatesEveryFact_AndPredictsOnlyTheValues(FactStyle style)
    {
        var recipe = Tiny with { Facts = style, ContextLossWeight = 0.1f };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var gen = new RecordsGenerator(RecordSplit.Train, 2, style);
        var doc = gen.Document(5, 3);
        var seq = new SequenceBuilder(tokenizer, recipe).DrillSequence(doc, new Random(1));
        var text = tokenizer.Decode(seq.Tokens);
        Assert.StartsWith(doc.Text, text[text.IndexOf(doc.Text[..20], StringComparison.Ordinal)..], StringComparison.Ordinal);
        // The predicted tokens, read back, are exactly the 30 answers (3 records × 10 kinds), each after its own key.
        var values = new List<string>();
        foreach (var run in PredictedRuns(seq))
        {
            values.Add(tokenizer.Decode(seq.Tokens[run]).Trim());
            // The two tokens before each value are its key, in the style's order, as the document writes it.
            var fact = SequenceBuilder.DrillOrder(doc, new Random(1))[values.Count - 1];
            var start = run.Start.Value;
            Assert.Equal(KeyedTemplates.Key(fact.Kind, fact.Record, style), tokenizer.Decode(seq.Tokens[(start - 2)..start]));
            Assert.Contains(KeyedTemplates.Key(fact.Kind, fact.Record, style).Trim(), doc.Text, StringComparison.Ordinal);
        }
        var expected = doc.Records.SelectMany(r => Enum.GetValues<FactKind>().Select(k => RecordTemplates.Answer(k, r)));
        Assert.Equal(expected.Order(), values.Order());
        // DrillOrder names the fact behind each predicted value, in sequence order (what the drill probe scores by kind).
        Assert.Equal(SequenceBuilder.DrillOrder(doc, new Random(1)).Select(f => RecordTemplates.Answer(f.Kind, f.Record)), values);
        Assert.All(seq.Weights, w => Assert.True(w is 1f or 0.1f or 0f));
    }

    [Theory]
    [InlineData(FactStyle.Keyed)]
    [InlineData(FactStyle.KeyedNameNext)]
    public void OrderedDrill_CopiesTheDocumentsFactsInItsOrder_EveryRestatedTokenPredicted(FactStyle style)
    {
        var recipe = Tiny with { Facts = style, ContextLossWeight = 0.1f };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var doc = new RecordsGenerator(RecordSplit.Train, 2, style).Document(7, 3);
        var seq = new SequenceBuilder(tokenizer, recipe).DrillSequence(doc, new Random(1), ordered: true);
        var summary = tokenizer.Decode(seq.Tokens).Split("Summary:")[1];
        // The restatement is the document's facts, sentence by sentence, in the document's order.
        var facts = SequenceBuilder.DocumentOrder(doc, style);
        Assert.Equal(30, facts.Count);
        Assert.Equal(string.Concat(facts.Select(f => KeyedTemplates.Key(f.Kind, f.Record, style) + " " + RecordTemplates.Answer(f.Kind, f.Record) + ".")), summary);
        var positions = facts.Select(f => doc.Text.IndexOf(KeyedTemplates.Key(f.Kind, f.Record, style).Trim(), StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p >= 0));
        Assert.Equal(positions.Order(), positions);
        // Everything after "Summary:" is a target; the document keeps the context weight.
        var start = seq.Length - tokenizer.Encode(summary).Count;
        Assert.All(seq.Weights[start..], w => Assert.Equal(1f, w));
        Assert.All(seq.Weights[1..start], w => Assert.Equal(0.1f, w));
        // A recipe that never asks for ordered drills draws exactly the batches it drew before the option existed.
        var plain = Tiny with { Facts = style, DrillShare = 1, StartRecords = 3, MaxRecords = 3, ContextLossWeight = 0.1f };
        var withZero = plain with { OrderedDrillShare = 0 };
        Assert.Equal(new BatchSampler(new SequenceBuilder(tokenizer, plain), plain).Batch(3).Select(b => b.Tokens),
            new BatchSampler(new SequenceBuilder(tokenizer, withZero), withZero).Batch(3).Select(b => b.Tokens));
        Assert.DoesNotContain("OrderedDrillShare", System.Text.Json.JsonSerializer.Serialize(withZero));
        var mixed = plain with { OrderedDrillShare = 0.5 };
        var sampler = new BatchSampler(new SequenceBuilder(tokenizer, mixed), mixed);
        var drills = Enumerable.Range(0, 20).SelectMany(step => sampler.Batch(step)).ToList();
        // Some drills are copies (every restated token a target, the full stops too), the others predict only values.
        var stop = tokenizer.Encode(".").Single();
        bool PredictsStops(TrainingSequence b) => b.Tokens.Where((t, i) => t == stop && b.Weights[i] == 1f).Any();
        Assert.Contains(drills, PredictsStops);
        Assert.Contains(drills, b => !PredictsStops(b));
    }

    [Fact]
    public void BindingStage_DrillsAndBatchesUseOnlyTheDocumentsKinds_AndTheRecipeKeepsItsOldJson()
    {
        var recipe = Tiny with { Facts = FactStyle.Keyed, FactsPerRecord = 1, DrillShare = 0.5, StartRecords = 4, MaxRecords = 4 };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var builder = new SequenceBuilder(tokenizer, recipe);
        var doc = new RecordsGenerator(RecordSplit.Train, 2, FactStyle.Keyed, 1).Document(5, 4);
        var order = SequenceBuilder.DrillOrder(doc, new Random(3));
        // One kind per document: the drill restates it for each of the four patients, so only the surname tells them apart.
        Assert.Equal(4, order.Count);
        Assert.Single(order.Select(f => f.Kind).Distinct());
        Assert.Equal(doc.Records.Select(r => r.Last).Order(), order.Select(f => f.Record.Last).Order());
        // Every question turn of a conversation asks about the document's one kind.
        var conversation = tokenizer.Decode(builder.Build(new RecordsGenerator(RecordSplit.Train, 2, FactStyle.Keyed, 1), doc, new Random(4)).Tokens);
        foreach (var other in Enum.GetValues<FactKind>().Where(k => k != doc.FactKinds[0] && k != FactKind.Lab))
            Assert.DoesNotContain(KeyedTemplates.Attributes[other] + " of", conversation, StringComparison.Ordinal);
        // The option is left out of the recipe's JSON when unset, so runs from before it still resume.
        Assert.DoesNotContain("FactsPerRecord", System.Text.Json.JsonSerializer.Serialize(Tiny), StringComparison.Ordinal);
        Assert.Contains("\"FactsPerRecord\":1", System.Text.Json.JsonSerializer.Serialize(recipe), StringComparison.Ordinal);
    }

    [Fact]
    public void DrillsWithReplacement_RestateAsManyFactsDrawnAtRandom_SoEliminationEarnsNothing()
    {
        var recipe = Tiny with { Facts = FactStyle.Keyed, FactsPerRecord = 1, FactKinds = [FactKind.Number], DrillShare = 1, StartRecords = 4, MaxRecords = 4, DrillsWithReplacement = true, ContextLossWeight = 0.1f };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var doc = new RecordsGenerator(RecordSplit.Train, 2, FactStyle.Keyed, 1, [FactKind.Number]).Document(5, 4);
        var draws = Enumerable.Range(0, 40).Select(i => SequenceBuilder.DrillOrder(doc, new Random(i), withReplacement: true)).ToList();
        Assert.All(draws, d => Assert.Equal(4, d.Count));
        Assert.All(draws.SelectMany(d => d), f => Assert.Contains(f.Record, doc.Records));
        // Some restatements repeat a patient and leave another out: the last value is not implied by the others.
        Assert.Contains(draws, d => d.Select(f => f.Record.Last).Distinct().Count() < 4);
        // The drill predicts exactly the drawn facts' values, in order (what the drill probe scores).
        var seq = new SequenceBuilder(tokenizer, recipe).DrillSequence(doc, new Random(9));
        var values = PredictedRuns(seq).Select(r => tokenizer.Decode(seq.Tokens[r]).Trim()).ToList();
        Assert.Equal(SequenceBuilder.DrillOrder(doc, new Random(9), withReplacement: true).Select(f => RecordTemplates.Answer(f.Kind, f.Record)), values);
        // Left out of the recipe's JSON when unset, so earlier runs resume unchanged.
        Assert.DoesNotContain("DrillsWithReplacement", System.Text.Json.JsonSerializer.Serialize(recipe with { DrillsWithReplacement = false }));
        Assert.Contains("\"DrillsWithReplacement\":true", System.Text.Json.JsonSerializer.Serialize(recipe));
    }

    [Fact]
    public void RecordsFloor_KeepsShortDocumentsUnderTheCeiling_AndTheNewOptionsStayOutOfOldRecipesJson()
    {
        var recipe = Tiny with { Facts = FactStyle.Keyed, FactsPerRecord = 1, FactKinds = [FactKind.Number], RecordsFloor = 2, StartRecords = 8, MaxRecords = 8 };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var sampler = new BatchSampler(new SequenceBuilder(tokenizer, recipe), recipe);
        var counts = Enumerable.Range(0, 200).Select(s => sampler.RecordsAt(s)).ToHashSet();
        // Uniform in [2, 8] instead of [4, 8]: every size from the floor to the ceiling occurs.
        Assert.Equal(Enumerable.Range(2, 7).ToHashSet(), counts);
        Assert.All(Enumerable.Range(0, 50), s => Assert.InRange(new BatchSampler(new SequenceBuilder(tokenizer, Tiny with { StartRecords = 8, MaxRecords = 8 }), Tiny with { StartRecords = 8, MaxRecords = 8 }).RecordsAt(s), 4, 8));
        var batch = sampler.Batch(3);
        Assert.All(batch, seq => Assert.Contains(" number ", tokenizer.Decode(seq.Tokens), StringComparison.Ordinal));
        var json = System.Text.Json.JsonSerializer.Serialize(Tiny);
        Assert.DoesNotContain("FactKinds", json, StringComparison.Ordinal);
        Assert.DoesNotContain("RecordsFloor", json, StringComparison.Ordinal);
        Assert.Contains("\"RecordsFloor\":2", System.Text.Json.JsonSerializer.Serialize(recipe), StringComparison.Ordinal);
    }

    [Fact]
    public void StagedRun_StartsFromThePreviousStagesWeights_AndRefusesAnotherSize()
    {
        var first = TinyModelDir.Fresh();
        new Pretrainer(Tiny with { Steps = 2, ProbeEvery = 0, CheckpointEvery = 2 }, first).Run(resume: false);
        var (model, _) = NewModel(Tiny with { Seed = 5 });
        using var m = model;
        PretrainCheckpoint.LoadWeights(Path.Combine(first, "checkpoint"), model);
        using (var file = Cartridges.Model.Weights.SafeTensorsFile.Open(Path.Combine(first, "checkpoint", PretrainCheckpoint.FileName)))
        {
            foreach (var (name, weight) in model.NamedTensors())
            {
                using var saved = file.Read($"w.{name}", ScalarType.Float32);
                Assert.True(saved.eq(weight).all().item<bool>(), name);
            }
        }
        // A second stage with another recipe (a longer curriculum) trains on from there.
        var second = TinyModelDir.Fresh();
        new Pretrainer(Tiny with { Steps = 1, ProbeEvery = 0, CheckpointEvery = 1, MaxRecords = 3 }, second, initFrom: first).Run(resume: false);
        Assert.True(PretrainCheckpoint.Exists(Path.Combine(second, "checkpoint")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "tokenizer.json")), File.ReadAllBytes(Path.Combine(second, "tokenizer.json")));
        var (wide, _) = NewModel(Tiny with { Hidden = 48, Intermediate = 96 });
        using var w = wide;
        Assert.Contains("same model size", Assert.Throws<InvalidDataException>(() => PretrainCheckpoint.LoadWeights(Path.Combine(first, "checkpoint"), wide)).Message);
    }

    [Fact]
    public void GatedCurriculum_GrowsOneRecordOnlyWhenTheGatePasses_AndTheCheckpointKeepsIt()
    {
        var recipe = Tiny with { CurriculumGate = 0.8, StartRecords = 1, MaxRecords = 3 };
        Assert.Equal(1, recipe.RecordCeiling(0));
        Assert.Equal(1, recipe.RecordCeiling(recipe.Steps)); // no fixed ramp under a gate
        Assert.Equal(1, recipe.NextCeiling(1, 0.79));
        Assert.Equal(2, recipe.NextCeiling(1, 0.8));
        Assert.Equal(3, recipe.NextCeiling(3, 1.0));          // never past the maximum
        Assert.Equal(1, (recipe with { CurriculumGate = 0 }).NextCeiling(1, 1.0));
        // Geometric growth: a share of the ceiling, at least one record, never past the maximum.
        var growing = recipe with { GateGrowth = 0.25, MaxRecords = 100 };
        Assert.Equal([2, 3, 20, 100], new[] { 1, 2, 16, 90 }.Select(c => growing.NextCeiling(c, 0.9)));
        Assert.Equal(16, growing.NextCeiling(16, 0.5));
        Assert.DoesNotContain("GateGrowth", System.Text.Json.JsonSerializer.Serialize(recipe), StringComparison.Ordinal);

        var (model, tokenizer) = NewModel(recipe);
        using var m = model;
        var sampler = new BatchSampler(new SequenceBuilder(tokenizer, recipe), recipe);
        Assert.All(Enumerable.Range(0, 20), s => Assert.InRange(sampler.RecordsAt(s, 6), 3, 6));
        Assert.All(sampler.Batch(0, 3), seq => Assert.True(seq.Length > 0));

        using var trainer = new FullParameterTrainer(model, recipe);
        var dir = TinyModelDir.Fresh();
        PretrainCheckpoint.Save(dir, model, trainer.Optimizer, 3, "r", recordsCeiling: 5);
        Assert.Equal(5, PretrainCheckpoint.RecordsCeiling(dir));
        PretrainCheckpoint.Save(dir, model, trainer.Optimizer, 3, "r");
        Assert.Equal(0, PretrainCheckpoint.RecordsCeiling(dir));
    }

    [Fact]
    public void Curriculum_RampsFromStartToMaxRecords()
    {
        var r = PretrainRecipe.Records;
        Assert.Equal(r.StartRecords, r.RecordCeiling(0));
        Assert.Equal(r.MaxRecords, r.RecordCeiling(r.Steps));
        Assert.True(r.LearningRateAt(r.WarmupSteps) > r.LearningRateAt(r.Steps - 1));
    }

    /// <summary>The runs of predicted tokens (weight 1) of a sequence, in order: one per restated value.</summary>
    static IEnumerable<Range> PredictedRuns(TrainingSequence seq)
    {
        for (var i = 0; i < seq.Length;)
        {
            if (seq.Weights[i] != 1f)
            {
                i++;
                continue;
            }
            var j = i;
            while (j < seq.Length && seq.Weights[j] == 1f) j++;
            yield return i..j;
            i = j;
        }
    }
}
