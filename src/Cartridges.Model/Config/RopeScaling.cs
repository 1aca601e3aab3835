using System.Text.Json.Serialization;

namespace Cartridges.Model.Config;

/// <summary>`rope_scaling` of config.json; only the llama3 type changes frequencies.</summary>
public sealed record RopeScaling
{
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }
    [JsonPropertyName("type")] public string? LegacyType { get; init; }
    [JsonPropertyName("factor")] public double Factor { get; init; } = 1.0;
    [JsonPropertyName("low_freq_factor")] public double LowFreqFactor { get; init; } = 1.0;
    [JsonPropertyName("high_freq_factor")] public double HighFreqFactor { get; init; } = 4.0;
    [JsonPropertyName("original_max_position_embeddings")] public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    /// <summary>The scaling type, whichever key the checkpoint used.</summary>
    [JsonIgnore] public string Type => RopeType ?? LegacyType ?? "default";
}
