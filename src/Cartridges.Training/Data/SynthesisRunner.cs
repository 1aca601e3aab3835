// Runs self-study (method §3) into a dataset directory: a manifest, then shards written one by one. A shard is
// written to a temporary file, read back and verified, then renamed, so nothing half-written ever looks valid;
// a rerun into the same directory keeps every shard that verifies and regenerates only the rest (each shard's
// seed depends only on the base seed and its index, so a regenerated shard is byte-identical).
using System.Diagnostics;
using System.Security.Cryptography;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Synthesis;

namespace Cartridges.Training.Data;

/// <summary>Synthesizes a sharded, resumable self-study dataset.</summary>
public static class SynthesisRunner
{
    /// <summary>The file name of shard `index`.</summary>
    public static string ShardFileName(int index) => $"shard-{index:D5}.bin";

    /// <summary>
    /// Synthesizes `options.Conversations` conversations about `corpusText` into `outDir` (created if needed),
    /// resuming a run with the same settings found there. The engine should serve nothing else meanwhile if the
    /// output must be reproducible bit for bit (batch composition affects rounding).
    /// </summary>
    /// <exception cref="InvalidOperationException">`outDir` holds a dataset made with other settings, or stray shards.</exception>
    public static async Task<SynthesisResult> RunAsync(GenerationEngine engine, HfTokenizer tokenizer, string corpusText, SynthesisOptions options,
        string outDir, IProgress<SynthesisProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        options.Validate();
        var synthesizer = new SelfStudySynthesizer(engine, tokenizer, corpusText, options.SelfStudy);
        var manifest = Plan(engine, synthesizer, options);
        Directory.CreateDirectory(outDir);
        CheckResumable(outDir, manifest);
        manifest.Save(outDir);

        var clock = Stopwatch.StartNew();
        var shards = manifest.Shards.ToArray();
        int skipped = 0, generated = 0, done = 0, conversationsDone = 0, conversationsGenerated = 0;
        long tokens = 0;
        SynthesisProgress Snapshot() => new(done, shards.Length, skipped, conversationsDone, options.Conversations, conversationsGenerated, tokens, clock.Elapsed);

        for (var s = 0; s < shards.Length; s++)
        {
            ct.ThrowIfCancellationRequested();
            var path = Path.Combine(outDir, shards[s].File);
            if (TryVerify(path, shards[s], options.SelfStudy.TopK) is { } existing)
            {
                shards[s] = shards[s] with { Sha256 = existing };
                skipped++;
                done++;
                conversationsDone += shards[s].Conversations;
                progress?.Report(Snapshot());
                continue;
            }

            var examples = await SynthesizeExamplesAsync(synthesizer, options, s, shards[s].Conversations, (size, generatedTokens) =>
            {
                tokens += generatedTokens;
                conversationsDone += size;
                conversationsGenerated += size;
                progress?.Report(Snapshot());
            }, ct);
            shards[s] = shards[s] with { Sha256 = WriteVerified(path, options.SelfStudy.TopK, examples) };
            generated++;
            done++;
            progress?.Report(Snapshot());
        }

        var complete = manifest with { Complete = true, Shards = shards };
        complete.Save(outDir);
        return new SynthesisResult(complete, generated, skipped, Snapshot());
    }

    /// <summary>
    /// Synthesizes shard `shard` of the dataset `options` describes and returns its encoded bytes (the same bytes
    /// <see cref="RunAsync"/> writes for that shard: each shard's seed depends only on the base seed and its index),
    /// so shards can be produced on different machines and assembled later with <see cref="Plan"/>.
    /// </summary>
    public static async Task<(byte[] Bytes, long GeneratedTokens)> SynthesizeShardAsync(GenerationEngine engine, HfTokenizer tokenizer,
        string corpusText, SynthesisOptions options, int shard, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        options.Validate();
        if (shard < 0 || shard >= options.ShardCount) throw new ArgumentOutOfRangeException(nameof(shard), $"Shard {shard} is outside 0..{options.ShardCount - 1}.");
        var synthesizer = new SelfStudySynthesizer(engine, tokenizer, corpusText, options.SelfStudy);
        var conversations = Math.Min(options.ConversationsPerShard, options.Conversations - shard * options.ConversationsPerShard);
        long tokens = 0;
        var examples = await SynthesizeExamplesAsync(synthesizer, options, shard, conversations, (_, t) => tokens += t, ct);
        var bytes = ShardWriter.Encode(options.SelfStudy.TopK, examples);
        var back = ShardReader.Decode(bytes, $"shard {shard}");
        if (back.Examples.Count != examples.Count) throw new IOException($"Shard {shard}: the encoded shard decodes to {back.Examples.Count} conversations, not {examples.Count}.");
        return (bytes, tokens);
    }

    /// <summary>The manifest of the dataset `options` describes for this model and corpus (shard hashes unset, not complete).</summary>
    public static DatasetManifest Plan(GenerationEngine engine, HfTokenizer tokenizer, string corpusText, SynthesisOptions options)
    {
        options.Validate();
        return Plan(engine, new SelfStudySynthesizer(engine, tokenizer, corpusText, options.SelfStudy), options);
    }

    static async Task<List<TrainingExample>> SynthesizeExamplesAsync(SelfStudySynthesizer synthesizer, SynthesisOptions options, int shard,
        int conversations, Action<int, long> onBatch, CancellationToken ct)
    {
        var examples = new List<TrainingExample>(conversations);
        var shardSeed = SeedStreams.Derive(options.Seed, (ulong)shard);
        for (var b = 0; examples.Count < conversations; b++)
        {
            var size = Math.Min(options.SelfStudy.ConversationsPerChunk, conversations - examples.Count);
            var batch = await synthesizer.SynthesizeBatchAsync(size, SeedStreams.Derive(shardSeed, (ulong)b), ct);
            examples.AddRange(batch.Conversations.Select(c => c.Example));
            onBatch(size, batch.GeneratedTokens);
        }
        return examples;
    }

    static DatasetManifest Plan(GenerationEngine engine, SelfStudySynthesizer synthesizer, SynthesisOptions options)
    {
        var count = options.ShardCount;
        var evalFrom = count - options.EvalShardCount;
        var shards = Enumerable.Range(0, count).Select(s => new ShardEntry(
            ShardFileName(s),
            s >= evalFrom ? DatasetManifest.EvalSplit : DatasetManifest.TrainSplit,
            Math.Min(options.ConversationsPerShard, options.Conversations - s * options.ConversationsPerShard))).ToArray();
        var config = engine.Model.Config;
        return new DatasetManifest
        {
            ModelHash = config.ArchitectureHash(),
            VocabSize = config.VocabSize,
            TemplateFamily = CartridgeInitializer.TemplateFamily(config),
            CorpusSha256 = synthesizer.CorpusSha256,
            CorpusTokens = synthesizer.CorpusTokens.Count,
            Seed = options.Seed,
            TopK = options.SelfStudy.TopK,
            Conversations = options.Conversations,
            ConversationsPerShard = options.ConversationsPerShard,
            Synthesis = options.SelfStudy,
            Shards = shards,
        };
    }

    /// <summary>Refuses to mix datasets: an existing manifest must describe exactly this run.</summary>
    static void CheckResumable(string outDir, DatasetManifest planned)
    {
        if (!File.Exists(Path.Combine(outDir, DatasetManifest.FileName)))
        {
            if (Directory.EnumerateFiles(outDir, "shard-*.bin").Any())
                throw new InvalidOperationException($"{outDir} holds shard files but no {DatasetManifest.FileName}; synthesize into an empty directory.");
            return;
        }
        var existing = DatasetManifest.Load(outDir);
        string? differs =
            existing.ModelHash != planned.ModelHash ? $"model {existing.ModelHash} vs {planned.ModelHash}" :
            existing.CorpusSha256 != planned.CorpusSha256 ? "a different corpus" :
            existing.Seed != planned.Seed ? $"seed {existing.Seed} vs {planned.Seed}" :
            Identity(existing) != Identity(planned) ? "different synthesis settings" : null;
        if (differs is not null)
            throw new InvalidOperationException($"{outDir} already holds a dataset made with {differs}; use another directory to synthesize a new one.");
    }

    static string Identity(DatasetManifest m) =>
        (m with { Complete = false, Shards = m.Shards.Select(s => s with { Sha256 = null }).ToArray() }).ToJson();

    /// <summary>The SHA-256 of a shard file that decodes and matches its plan, or null if absent or invalid.</summary>
    static string? TryVerify(string path, ShardEntry entry, int k)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var bytes = File.ReadAllBytes(path);
            var shard = ShardReader.Decode(bytes, path);
            return shard.K == k && shard.Examples.Count == entry.Conversations ? Convert.ToHexStringLower(SHA256.HashData(bytes)) : null;
        }
        catch (InvalidDataException)
        {
            // A damaged shard from an interrupted or corrupted run is regenerated, not trusted.
            return null;
        }
    }

    static string WriteVerified(string path, int k, IReadOnlyList<TrainingExample> examples)
    {
        var bytes = ShardWriter.Encode(k, examples);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        var back = ShardReader.ReadFile(temp);
        if (back.Examples.Count != examples.Count || back.K != k)
            throw new IOException($"{temp}: the shard read back differs from what was written.");
        File.Move(temp, path, overwrite: true);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
