// Self-study (method §3): per batch, one corpus chunk whose system turn is prefilled ONCE and shared by
// reference (an engine prefix) by every conversation; participant A writes a user message from a seed prompt
// (T=0.6), B answers it greedily, and the teacher (the model with the chunk in context) gives its top-k
// log-probabilities for every answer token. The student sees the same tokens minus the chunk: the cartridge
// chat variant (no BOS, no date header), starting at the user header.
using Cartridges.Model.Chat;
using Cartridges.Model.Engine;
using Cartridges.Model.Scoring;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Data;

namespace Cartridges.Training.Synthesis;

/// <summary>Synthesizes distillation conversations about a corpus with a generation engine.</summary>
public sealed class SelfStudySynthesizer
{
    readonly GenerationEngine _engine;
    readonly HfTokenizer _tokenizer;
    readonly ChatTemplate _template;
    readonly int[] _stopTokens;
    readonly TokenChunker _chunker;

    /// <summary>Tokenizes the corpus and checks that the longest conversation fits the model's context.</summary>
    /// <exception cref="InvalidDataException">The corpus is empty.</exception>
    /// <exception cref="ArgumentException">Settings are out of range or do not fit the model.</exception>
    public SelfStudySynthesizer(GenerationEngine engine, HfTokenizer tokenizer, string corpusText, SelfStudyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(corpusText);
        Options = options ?? new SelfStudyOptions();
        Options.Validate();
        CorpusText.Validate(corpusText);
        _engine = engine;
        _tokenizer = tokenizer;
        var config = engine.Model.Config;
        _template = ChatTemplate.For(CartridgeInitializer.TemplateFamily(config));
        _stopTokens = [.. _template.StopTokenIds(tokenizer)];
        if (_stopTokens.Length == 0) throw new ArgumentException("The tokenizer has none of the chat template's end-of-turn tokens.");
        if (Options.TopK > config.VocabSize) throw new ArgumentException($"Top-k {Options.TopK} exceeds the vocabulary of {config.VocabSize}.");
        CorpusTokens = [.. tokenizer.Encode(corpusText)];
        CorpusSha256 = CorpusText.Sha256(corpusText);
        _chunker = new TokenChunker(tokenizer, CorpusTokens, Options.ChunkMinTokens, Options.ChunkMaxTokens, Options.CorpusDescription);
        CheckContext(config.MaxPositionEmbeddings);
    }

    /// <summary>The settings in use.</summary>
    public SelfStudyOptions Options { get; }

    /// <summary>The corpus as token ids.</summary>
    public IReadOnlyList<int> CorpusTokens { get; }

    /// <summary>SHA-256 of the corpus text (UTF-8).</summary>
    public string CorpusSha256 { get; }

    /// <summary>The chunk sampler.</summary>
    public TokenChunker Chunker => _chunker;

    void CheckContext(int context)
    {
        // Worst case: the longest chunk's system turn (+ slack: decoded text can re-tokenize a little longer),
        // then a user turn with A's longest message and the longest chain-of-thought line, then B's longest answer.
        var systemTokens = _template.Encode(_tokenizer, [SystemMessage("")], addGenerationPrompt: false).Count;
        var chunk = Math.Min(Options.ChunkMaxTokens, CorpusTokens.Count) + 16 + _tokenizer.Encode(Options.CorpusDescription).Count;
        var cot = SeedPrompts.ChainOfThoughtInstructions.Max(c => _tokenizer.Encode(c).Count);
        var turns = _template.Encode(_tokenizer, [new ChatMessage("user", "")], addGenerationPrompt: true, forCartridge: true).Count;
        var need = systemTokens + chunk + turns + Options.MaxQuestionTokens + cot + Options.MaxAnswerTokens;
        if (need >= context)
            throw new ArgumentException(
                $"A conversation may need {need} tokens (chunk up to {Options.ChunkMaxTokens}, question {Options.MaxQuestionTokens}, " +
                $"answer {Options.MaxAnswerTokens}, plus chat markup), beyond the model's context of {context}; lower the chunk or token limits.");
    }

    ChatMessage SystemMessage(string chunkText) => new("system", Options.SystemPromptTemplate.Replace("{chunk}", chunkText, StringComparison.Ordinal));

    /// <summary>Student-side tokens of a user turn plus the assistant header (cartridge chat variant).</summary>
    int[] UserTurn(string message) =>
        [.. _template.Encode(_tokenizer, [new ChatMessage("user", message)], addGenerationPrompt: true, forCartridge: true)];

    /// <summary>
    /// Synthesizes `conversations` conversations about one chunk. Everything (chunk, seeds, chain-of-thought draws,
    /// A's sampling) derives from `seed`; with no other traffic on the engine the result is identical for a seed.
    /// </summary>
    public async Task<SelfStudyBatch> SynthesizeBatchAsync(int conversations, ulong seed, CancellationToken ct = default)
    {
        if (conversations < 1) throw new ArgumentOutOfRangeException(nameof(conversations), "at least one conversation is needed");
        ct.ThrowIfCancellationRequested();
        var rng = SeedStreams.Random(seed);
        var chunk = _chunker.Sample(rng);
        var seeds = new SeedPrompt[conversations];
        var cots = new string?[conversations];
        for (var i = 0; i < conversations; i++)
        {
            seeds[i] = SeedPrompts.Sample(rng, Options.GenericSeedOnly);
            cots[i] = SeedPrompts.SampleChainOfThought(rng, Options.ChainOfThoughtProbability);
        }
        var system = SystemMessage(chunk.Text);
        var prefixTokens = _template.Encode(_tokenizer, [system], addGenerationPrompt: false).ToArray();

        // The chunk's KV: one forward pass, registered with the engine and shared by every A and B sequence below.
        // We keep a reference for the teacher's scoring; the engine frees it when we unregister it at the end.
        KvPrefix? shared = null;
        var prefixId = $"self-study/{Guid.NewGuid():N}";
        if (Options.ShareChunkPrefix) await _engine.RegisterPrefixAsync(prefixId, m => shared = PrefixBuilder.FromTokens(m, prefixTokens));
        try
        {
            // Participant A: writes the user's message from the seed prompt, sampled at T=0.6.
            var questionPrompts = seeds.Select(s => UserTurn(s.Text)).ToArray();
            var questions = await GenerateAllAsync(questionPrompts, prefixTokens, prefixId, i => new SamplingParams
            {
                Temperature = Options.QuestionTemperature,
                Seed = SeedStreams.Derive(seed, (ulong)i),
                MaxTokens = Options.MaxQuestionTokens,
                StopTokens = _stopTokens,
            }, ct);
            var messages = new string[conversations];
            var answerPrompts = new int[conversations][];
            for (var i = 0; i < conversations; i++)
            {
                // A reasoning model's think block is not part of the question it wrote.
                var question = Qwen3ChatTemplate.WithoutReasoning(_tokenizer.Decode(questions[i].Tokens, skipSpecial: true)).Trim();
                messages[i] = SeedPrompts.WithChainOfThought(question, cots[i]);
                answerPrompts[i] = UserTurn(messages[i]);
                CheckTeacherSeesStudentTokens(system, messages[i], prefixTokens, answerPrompts[i]);
            }

            // Participant B: answers greedily; its tokens are the loss tokens.
            var answers = await GenerateAllAsync(answerPrompts, prefixTokens, prefixId, _ => SamplingParams.Greedy(Options.MaxAnswerTokens, _stopTokens), ct);
            var students = answerPrompts.Select((p, i) => (int[])[.. p, .. answers[i].Tokens]).ToArray();

            // Teacher: the model with the chunk in context, scored over exactly the student's tokens.
            var rows = await _engine.RunAsync(m =>
            {
                using var own = shared is null ? PrefixBuilder.FromTokens(m, prefixTokens) : null;
                return TeacherRows(m, students, answerPrompts.Select(p => p.Length).ToArray(), new PrefixSegment(shared ?? own!, 0));
            });
            ct.ThrowIfCancellationRequested();

            var result = new SelfStudyConversation[conversations];
            for (var i = 0; i < conversations; i++)
            {
                var mask = new bool[students[i].Length];
                for (var j = answerPrompts[i].Length; j < mask.Length; j++) mask[j] = true;
                var example = new TrainingExample(students[i], mask, rows[i].Ids, rows[i].LogProbs);
                example.Validate($"self-study batch {seed:x16}, conversation {i}");
                result[i] = new SelfStudyConversation(seeds[i], cots[i], questions[i].Tokens, messages[i], answers[i].Tokens,
                    answers[i].FinishReason, example);
            }
            return new SelfStudyBatch(chunk, prefixTokens, result);
        }
        finally
        {
            if (Options.ShareChunkPrefix) await _engine.UnregisterPrefixAsync(prefixId);
        }
    }

    /// <summary>
    /// The teacher's context must be the chunk prefix followed by exactly the student's tokens. The templates put
    /// special tokens at every turn boundary, so this holds; we check it rather than assume it.
    /// </summary>
    void CheckTeacherSeesStudentTokens(ChatMessage system, string message, int[] prefixTokens, int[] studentPrompt)
    {
        var full = _template.Encode(_tokenizer, [system, new ChatMessage("user", message)], addGenerationPrompt: true);
        if (!full.SequenceEqual(prefixTokens.Concat(studentPrompt)))
            throw new InvalidOperationException(
                "The chat template renders the user turn differently after the chunk's system turn than in the cartridge " +
                "variant; the teacher and the student would see different tokens.");
    }

    /// <summary>
    /// Submits every prompt from the device thread, so all of them are queued before the engine's next step and
    /// start together: batch composition, and hence every rounding, is the same on every run.
    /// </summary>
    async Task<GenerationResult[]> GenerateAllAsync(int[][] prompts, int[] prefixTokens, string prefixId, Func<int, SamplingParams> sampling,
        CancellationToken ct)
    {
        var share = Options.ShareChunkPrefix;
        var handles = await _engine.RunAsync(_ => prompts.Select((p, i) => _engine.Submit(new GenerationRequest
        {
            Prompt = share ? p : [.. prefixTokens, .. p],
            PrefixIds = share ? [prefixId] : [],
            Sampling = sampling(i),
        }, ct)).ToArray());
        var results = await Task.WhenAll(handles.Select(h => h.Completion));
        ct.ThrowIfCancellationRequested();
        return results;
    }

    /// <summary>Top-k rows for the answer tokens: row t of the scorer predicts token t+1, so token j uses row j-1.</summary>
    TopKResult[] TeacherRows(TransformerModel model, int[][] students, int[] promptLengths, PrefixSegment chunk)
    {
        var rows = new TopKResult[students.Length];
        var start = 0;
        while (start < students.Length)
        {
            // Consecutive groups whose padded [B, T] stays within the token budget (at least one sequence each).
            var end = start + 1;
            var longest = students[start].Length;
            while (end < students.Length && (end - start + 1) * Math.Max(longest, students[end].Length) <= Options.ScoreBatchTokens)
                longest = Math.Max(longest, students[end++].Length);
            var group = students[start..end].Select(s => (IReadOnlyList<int>)s).ToArray();
            var scored = SequenceScorer.TopK(model, group, Options.TopK, [chunk]);
            for (var b = 0; b < scored.Length; b++)
            {
                var i = start + b;
                var first = promptLengths[i] - 1;
                var count = students[i].Length - promptLengths[i];
                rows[i] = new TopKResult(scored[b].Ids[first..(first + count)], scored[b].LogProbs[first..(first + count)]);
            }
            start = end;
        }
        return rows;
    }
}
