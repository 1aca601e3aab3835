// A pretraining run end to end: tokenizer (built once, deterministic), model init or resume, the step loop with
// curriculum batches, periodic accuracy probes, checkpoints, and the exported model directory. The output
// directory is itself a loadable model after every checkpoint; its checkpoint/ subfolder resumes the run.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.ProvingGround.Records;
using Cartridges.ProvingGround.Vocabulary;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Runs the records recipe into an output directory.</summary>
public sealed class Pretrainer(PretrainRecipe recipe, string outDir, Action<string>? log = null, Device? device = null, string? initFrom = null)
{
    /// <summary>File of the training curve (one JSON object per line).</summary>
    public const string CurveFile = "curve.jsonl";

    readonly Action<string> _log = log ?? (_ => { });

    /// <summary>Checkpoint directory of the run.</summary>
    public string CheckpointDir => Path.Combine(outDir, "checkpoint");

    /// <summary>
    /// Trains up to the recipe's step count (or only up to <paramref name="stopAt"/>, checkpointing there, with the
    /// schedule of the full run), resuming from the checkpoint when asked; returns the last loss.
    /// </summary>
    public double Run(bool resume, int? stopAt = null, CancellationToken cancel = default)
    {
        torch.set_num_threads(recipe.Threads);
        var recipeJson = JsonSerializer.Serialize(recipe with { Steps = 0, ProbeEvery = 0, CheckpointEvery = 0, ProbeQuestions = 0 });
        if (!resume && PretrainCheckpoint.Exists(CheckpointDir))
            throw new InvalidOperationException($"{outDir} already holds a run; pass --resume to continue it or choose another --out.");
        if (!resume || !File.Exists(Path.Combine(outDir, "tokenizer.json")))
        {
            Directory.CreateDirectory(outDir);
            if (initFrom is null)
                TokenizerJsonWriter.Write(outDir, VocabularySamples.Pieces(recipe.Seed));
            else
            {
                // A staged run keeps the previous stage's tokenizer: its embedding rows belong to those ids.
                foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
                    File.Copy(Path.Combine(initFrom, file), Path.Combine(outDir, file), overwrite: true);
            }
        }
        var tokenizer = HfTokenizer.Load(outDir);
        var config = RecordsModelConfig.Create(recipe, tokenizer.VocabSize, tokenizer.BosId!.Value, tokenizer.EosId!.Value);
        var init = RecordsModelConfig.InitialWeights(config, recipe.Seed);
        using var model = TransformerModel.FromTensors(config, init, device ?? CPU, ScalarType.Float32);
        foreach (var t in init.Values) t.Dispose();
        using var trainer = new FullParameterTrainer(model, recipe);
        var start = resume && PretrainCheckpoint.Exists(CheckpointDir) ? PretrainCheckpoint.Load(CheckpointDir, model, trainer.Optimizer, recipeJson) : 0;
        if (start == 0 && initFrom is not null)
        {
            // A staged run: the previous stage's fp32 weights, a fresh optimizer and this recipe's schedule.
            PretrainCheckpoint.LoadWeights(Path.Combine(initFrom, "checkpoint"), model);
            _log($"weights from {initFrom}");
        }
        // The gated curriculum's only state: the current record ceiling (restored with the weights).
        int? gated = recipe.CurriculumGate > 0 ? Math.Max(recipe.RecordCeiling(0), start > 0 ? PretrainCheckpoint.RecordsCeiling(CheckpointDir) : 0) : null;
        _log($"model: {model.ParameterCount:N0} parameters, vocab {config.VocabSize}, d{config.HiddenSize} x {config.NumHiddenLayers} layers; starting at step {start}/{recipe.Steps}");

        var builder = new SequenceBuilder(tokenizer, recipe);
        var sampler = new BatchSampler(builder, recipe);
        var probe = new AccuracyProbe(tokenizer, recipe.Generator(RecordSplit.HeldOut));
        var clock = Stopwatch.StartNew();
        double ema = double.NaN, last = double.NaN;
        long tokens = 0;
        var end = Math.Min(recipe.Steps, stopAt ?? recipe.Steps);
        for (var step = start; step < end && !cancel.IsCancellationRequested; step++)
        {
            var batch = sampler.Batch(step, gated);
            var (loss, norm) = trainer.Step(batch, step);
            last = loss;
            ema = double.IsNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
            tokens += batch.Sum(s => s.Length);
            var done = step + 1;
            if (done % 10 == 0 || done == recipe.Steps)
            {
                var line = Json(("step", done), ("loss", loss), ("loss_ema", ema), ("grad_norm", norm), ("lr", recipe.LearningRateAt(step)),
                    ("records", sampler.RecordsAt(step, gated)), ("ceiling", gated ?? recipe.RecordCeiling(step)), ("batch", batch.Count), ("seq_len", batch.Max(s => s.Length)),
                    ("tokens", tokens), ("elapsed_s", clock.Elapsed.TotalSeconds));
                Append(line);
                _log(line);
            }
            if (recipe.ProbeEvery > 0 && (done % recipe.ProbeEvery == 0 || done == recipe.Steps))
            {
                var results = RunProbes(model, probe, builder, done, gated);
                if (gated is { } c && recipe.NextCeiling(c, results.First(r => r.Result.Records == c).Gate) is var next && next != c)
                {
                    gated = next;
                    Append(Json(("step", done), ("ceiling", next)));
                    _log($"gate passed at {c} records: documents now up to {next} records");
                }
            }
            if (recipe.CheckpointEvery > 0 && (done % recipe.CheckpointEvery == 0 || done == end))
            {
                PretrainCheckpoint.Save(CheckpointDir, model, trainer.Optimizer, done, recipeJson, gated ?? 0);
                ModelExporter.Write(outDir, config, model, new Dictionary<string, string>
                {
                    ["step"] = done.ToString(CultureInfo.InvariantCulture),
                    ["recipe"] = recipeJson,
                    [RecordsModelInfo.FactStyleKey] = recipe.Facts.ToString(),
                });
            }
        }
        return last;
    }

    /// <summary>Probes, logged to the curve; each with the figure the gate reads (drill exact match for a drills-only run).</summary>
    List<(ProbeResult Result, double Gate)> RunProbes(TransformerModel model, AccuracyProbe probe, SequenceBuilder builder, int step, int? gated)
    {
        var results = new List<(ProbeResult, double)>();
        foreach (var records in ProbeRecordCounts(gated, step))
        {
            var r = probe.Run(model, records, recipe.ProbeQuestions);
            var fields = new List<(string, object)> { ("step", step), ("probe_records", r.Records), ("probe_tokens", r.MeanTokens), ("em_with_doc", r.WithDocument), ("em_without_doc", r.WithoutDocument) };
            var gate = r.WithDocument;
            if (recipe.DrillShare > 0 && recipe.Facts.IsKeyed())
            {
                // The key-matching circuit on its own: restated values copied from the right record.
                var drill = probe.DrillExactMatch(model, builder, records, Math.Max(1, recipe.ProbeQuestions / 4)).Values.Average();
                fields.Add(("drill_em", drill));
                if (recipe.DrillShare >= 1) gate = drill; // no chat turns are trained: questions cannot pass a gate
            }
            var line = Json([.. fields]);
            Append(line);
            _log(line);
            results.Add((r, gate));
        }
        return results;
    }

    // A gated run probes its current size (the gate) and, every fifth probe, the largest; a ramped run three sizes.
    IEnumerable<int> ProbeRecordCounts(int? gated, int step) => (gated is { } c
        ? (step % (5 * recipe.ProbeEvery) == 0 || step == recipe.Steps ? new[] { c, recipe.MaxRecords } : [c])
        : new[] { Math.Min(2, recipe.MaxRecords), Math.Max(1, recipe.MaxRecords / 2), recipe.MaxRecords }).Distinct();

    void Append(string line) => File.AppendAllText(Path.Combine(outDir, CurveFile), line + "\n");

    static string Json(params (string Key, object Value)[] fields) =>
        "{" + string.Join(", ", fields.Select(f => $"\"{f.Key}\": {Format(f.Value)}")) + "}";

    static string Format(object v) => v switch
    {
        double d => d.ToString("G5", CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture)!,
    };
}
