using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cartridges.Training.Pipeline;

/// <summary>The `--report` JSON of `cartridges train` (field names as documented: eval.cartridge.loss, …).</summary>
public sealed record TrainReport
{
    /// <summary>Held-out scores by student.</summary>
    [JsonPropertyName("eval")] public required EvalSection Eval { get; init; }

    /// <summary>KV memory.</summary>
    [JsonPropertyName("memory")] public required MemorySection Memory { get; init; }

    /// <summary>Wall-clock seconds per phase.</summary>
    [JsonPropertyName("timings")] public required TimingsSection Timings { get; init; }

    /// <summary>Training run summary.</summary>
    [JsonPropertyName("training")] public required TrainingSection Training { get; init; }

    /// <summary>Writes the report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull });
}

/// <summary>One student's held-out distillation loss (nats/token) and top-1 agreement with the teacher.</summary>
public sealed record ScoreEntry([property: JsonPropertyName("loss")] double Loss, [property: JsonPropertyName("top1")] double Top1);

/// <summary>Scores of the trained cartridge and the baselines.</summary>
public sealed record EvalSection(
    [property: JsonPropertyName("cartridge")] ScoreEntry Cartridge,
    [property: JsonPropertyName("init")] ScoreEntry Init,
    [property: JsonPropertyName("truncation")] ScoreEntry Truncation,
    [property: JsonPropertyName("icl")] ScoreEntry? Icl,
    [property: JsonPropertyName("examples")] int Examples,
    [property: JsonPropertyName("tokens")] int Tokens);

/// <summary>Cartridge bytes against the KV cache of the whole corpus in context (same dtype).</summary>
public sealed record MemorySection(
    [property: JsonPropertyName("cartridge_bytes")] long CartridgeBytes,
    [property: JsonPropertyName("icl_kv_bytes")] long IclKvBytes,
    [property: JsonPropertyName("cartridge_tokens")] int CartridgeTokens,
    [property: JsonPropertyName("corpus_tokens")] int CorpusTokens,
    [property: JsonPropertyName("ratio")] double Ratio);

/// <summary>Seconds spent in each phase.</summary>
public sealed record TimingsSection(
    [property: JsonPropertyName("synthesis_s")] double SynthesisSeconds,
    [property: JsonPropertyName("training_s")] double TrainingSeconds,
    [property: JsonPropertyName("eval_s")] double EvalSeconds);

/// <summary>What the trainer did.</summary>
public sealed record TrainingSection(
    [property: JsonPropertyName("objective")] string Objective,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("resumed_from_step")] int ResumedFromStep,
    [property: JsonPropertyName("final_loss")] double FinalLoss,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("train_examples")] int TrainExamples);
