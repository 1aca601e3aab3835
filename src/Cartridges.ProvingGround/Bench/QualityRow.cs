// One row of the quality table, in the JSON shape the issue fixes: {"method", "n", "p", "accuracy", "kv_bytes",
// "tokens_per_s"} (+ the number of questions behind the accuracy).
using System.Text.Json.Serialization;

namespace Cartridges.ProvingGround.Bench;

/// <summary>Accuracy, KV memory and decode throughput of one method at one (n, p).</summary>
/// <param name="Method">icl, truncation, init, ntp, cartridge, icl-both, compose, compose-shared-pos or joint.</param>
/// <param name="N">Document length in tokens.</param>
/// <param name="P">KV tokens the method keeps per user (for icl: the whole system turn with the document).</param>
/// <param name="Accuracy">Exact-match accuracy in [0, 1].</param>
/// <param name="KvBytes">KV cache bytes per user.</param>
/// <param name="TokensPerSecond">Decode throughput with the bench's concurrent users, each holding this KV.</param>
/// <param name="Questions">Questions scored.</param>
public sealed record QualityRow(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("p")] int P,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("kv_bytes")] long KvBytes,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("questions")] int Questions);
