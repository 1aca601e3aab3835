// The Hugging Face `config.json` of a Llama-3 or Qwen3 causal LM, with the fields the runtime needs.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cartridges.Model.Config;

/// <summary>Architecture hyper-parameters read from (and written to) a model directory's config.json.</summary>
public sealed record ModelConfig
{
    [JsonPropertyName("architectures")] public IReadOnlyList<string> Architectures { get; init; } = [];
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeadsRaw { get; init; }
    [JsonPropertyName("head_dim")] public int? HeadDimRaw { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("rope_scaling")] public RopeScaling? RopeScaling { get; init; }
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    [JsonPropertyName("mlp_bias")] public bool MlpBias { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("bos_token_id")] public JsonElement? BosTokenId { get; init; }
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenId { get; init; }
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    /// <summary>Qwen's sliding-window switch (the runtime attends to the whole context, so it must be off).</summary>
    [JsonPropertyName("use_sliding_window"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool UseSlidingWindow { get; init; }
    /// <summary>Share of each head's dimensions that RoPE rotates (the runtime rotates all of them).</summary>
    [JsonPropertyName("partial_rotary_factor"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? PartialRotaryFactor { get; init; }

    /// <summary>Number of key/value heads (GQA); equals the query heads when absent.</summary>
    [JsonIgnore] public int NumKeyValueHeads => NumKeyValueHeadsRaw ?? NumAttentionHeads;

    /// <summary>Per-head dimension; Qwen3 states it explicitly, Llama derives it.</summary>
    [JsonIgnore] public int HeadDim => HeadDimRaw ?? HiddenSize / NumAttentionHeads;

    /// <summary>Which supported family this is.</summary>
    [JsonIgnore]
    public ModelFamily Family => Architectures.FirstOrDefault() switch
    {
        "LlamaForCausalLM" => ModelFamily.Llama,
        "Qwen3ForCausalLM" => ModelFamily.Qwen3,
        _ => ModelFamily.Unsupported,
    };

    /// <summary>Qwen3 normalises queries and keys per head before RoPE.</summary>
    [JsonIgnore] public bool HasQkNorm => Family == ModelFamily.Qwen3;

    /// <summary>Bytes of keys and values one token occupies in the KV cache at the given element size.</summary>
    public long KvBytesPerToken(int elementSize) => 2L * NumHiddenLayers * NumKeyValueHeads * HeadDim * elementSize;

    /// <summary>EOS ids named in config.json (an int or a list of ints).</summary>
    [JsonIgnore] public IReadOnlyList<int> EosTokenIds => IdList(EosTokenId);

    /// <summary>BOS id named in config.json, if any.</summary>
    [JsonIgnore] public int? BosTokenIdValue => IdList(BosTokenId) is [var id, ..] ? id : null;

    static IReadOnlyList<int> IdList(JsonElement? e) => e switch
    {
        { ValueKind: JsonValueKind.Number } n => [n.GetInt32()],
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray(),
        _ => [],
    };

    static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads and validates config.json in a model directory.</summary>
    public static ModelConfig Load(string modelDir)
    {
        var path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path)) throw new ModelLoadException($"config.json not found in model directory '{modelDir}'.");
        ModelConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<ModelConfig>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"config.json in '{modelDir}' is not valid JSON: {e.Message}", e);
        }
        if (config is null) throw new ModelLoadException($"config.json in '{modelDir}' is empty.");
        config.Validate(path);
        return config;
    }

    /// <summary>Throws a clear error if the configuration is unsupported or inconsistent.</summary>
    public void Validate(string source = "config.json")
    {
        if (Family == ModelFamily.Unsupported)
        {
            var arch = Architectures.Count == 0 ? "(none)" : string.Join(", ", Architectures);
            throw new ModelLoadException(
                $"{source}: unsupported architecture {arch}; supported: LlamaForCausalLM, Qwen3ForCausalLM.");
        }
        void Positive(int value, string name)
        {
            if (value <= 0) throw new ModelLoadException($"{source}: '{name}' must be a positive integer (got {value}).");
        }
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(IntermediateSize, "intermediate_size");
        Positive(NumHiddenLayers, "num_hidden_layers");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(NumKeyValueHeads, "num_key_value_heads");
        Positive(HeadDim, "head_dim");
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new ModelLoadException(
                $"{source}: num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads}).");
        if (HeadDim % 2 != 0) throw new ModelLoadException($"{source}: head_dim ({HeadDim}) must be even for RoPE.");
        if (HiddenAct != "silu") throw new ModelLoadException($"{source}: hidden_act '{HiddenAct}' is not supported (only silu).");
        if (RopeScaling is { } rs && rs.Type is not ("llama3" or "default"))
            throw new ModelLoadException($"{source}: rope_scaling type '{rs.Type}' is not supported (llama3 or default).");
        // Settings that change the computation and that this runtime does not implement: refused rather than ignored,
        // because ignoring them loads the weights and answers with different (wrong) logits.
        if (MlpBias) throw new ModelLoadException($"{source}: mlp_bias = true is not supported (the MLP projections have no bias here).");
        if (UseSlidingWindow) throw new ModelLoadException($"{source}: use_sliding_window = true is not supported (attention always spans the whole context).");
        if (PartialRotaryFactor is { } rotary && rotary != 1.0)
            throw new ModelLoadException($"{source}: partial_rotary_factor {PartialRotaryFactor} is not supported (RoPE rotates every head dimension).");
    }

    /// <summary>Serialises to config.json text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, WriteOptions);

    /// <summary>Short stable hash of the architecture fields, used to tie cartridges to a model.</summary>
    public string ArchitectureHash()
    {
        var key = $"{Family}|{VocabSize}|{HiddenSize}|{IntermediateSize}|{NumHiddenLayers}|{NumAttentionHeads}|" +
                  $"{NumKeyValueHeads}|{HeadDim}|{RopeTheta}|{RopeScaling}|{RmsNormEps}|{TieWordEmbeddings}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }
}

/// <summary>The supported model families.</summary>
public enum ModelFamily
{
    /// <summary>Not supported by this runtime.</summary>
    Unsupported,
    /// <summary>LlamaForCausalLM (Llama 3.x).</summary>
    Llama,
    /// <summary>Qwen3ForCausalLM.</summary>
    Qwen3,
}
