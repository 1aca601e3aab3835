// A model's own sampling defaults, from the optional Hugging Face `generation_config.json`. Serving engines (vLLM,
// transformers' generate) fill every sampling setting a request leaves out from this file, so a request to Qwen3 or
// Llama-3 without a temperature samples the way the model's authors tuned it; without the file, OpenAI's defaults hold.
using System.Text.Json;

namespace Cartridges.Model.Config;

/// <summary>Sampling settings a model directory asks for when a request leaves them out (null = not stated).</summary>
public sealed record GenerationDefaults(float? Temperature, float? TopP, int? TopK)
{
    /// <summary>The file name in a model directory.</summary>
    public const string FileName = "generation_config.json";

    /// <summary>No stated defaults.</summary>
    public static GenerationDefaults None { get; } = new(null, null, null);

    /// <summary>Temperature when neither the request nor the model states one (OpenAI's default).</summary>
    public const float FallbackTemperature = 1f;

    /// <summary>
    /// Reads <c>generation_config.json</c> from <paramref name="modelDir"/> (absent = <see cref="None"/>).
    /// <c>do_sample: false</c> means greedy (temperature 0), as in transformers.
    /// </summary>
    public static GenerationDefaults Load(string modelDir)
    {
        var path = Path.Combine(modelDir, FileName);
        if (!File.Exists(path)) return None;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelLoadException($"{FileName} in '{modelDir}' must hold a JSON object.");
            float? Number(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : null;
            var temperature = Number("temperature");
            var topP = Number("top_p");
            var topK = Number("top_k") is { } k ? (int)k : (int?)null;
            if (root.TryGetProperty("do_sample", out var sample) && sample.ValueKind == JsonValueKind.False) temperature = 0f;
            if (temperature is { } t && !(t >= 0 && float.IsFinite(t))) throw new ModelLoadException($"{FileName} in '{modelDir}': temperature must be >= 0 (got {t}).");
            if (topP is { } p && !(p > 0 && p <= 1)) throw new ModelLoadException($"{FileName} in '{modelDir}': top_p must be in (0, 1] (got {p}).");
            if (topK is < 0) topK = 0; // transformers and vLLM read a negative top_k as "off"
            return new GenerationDefaults(temperature, topP, topK);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{FileName} in '{modelDir}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The settings to sample with: each one the request gives, else this model's, else OpenAI's.</summary>
    public (float Temperature, float TopP, int TopK) Resolve(float? temperature, float? topP, int? topK) =>
        (temperature ?? Temperature ?? FallbackTemperature, topP ?? TopP ?? 1f, topK ?? TopK ?? 0);
}
