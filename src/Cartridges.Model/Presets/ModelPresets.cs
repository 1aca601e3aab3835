// Built-in architectures for `cartridges model init-random`: small enough for CPU tests and benchmarks,
// shaped like the real families (GQA, llama3 RoPE scaling, Qwen3 q/k-norm with an explicit head_dim).
using Cartridges.Model.Config;
using Cartridges.Model.Tokenization;

namespace Cartridges.Model.Presets;

/// <summary>Named model sizes (tiny, small, 1b) for the Llama and Qwen3 families.</summary>
public static class ModelPresets
{
    /// <summary>The config.json of a preset.</summary>
    public static ModelConfig Create(ModelFamily family, string preset)
    {
        var (hidden, layers, heads, kvHeads, intermediate) = preset switch
        {
            "tiny" => (256, 4, 8, 2, 768),
            "small" => (1024, 8, 16, 4, 2816),
            // Llama-3.2-1B's shape (about 1.1B parameters with this vocabulary): for accelerator benchmarks.
            "1b" => (2048, 16, 32, 8, 8192),
            _ => throw new ArgumentException($"Unknown preset '{preset}'; use tiny, small or 1b."),
        };
        var shared = new ModelConfig
        {
            VocabSize = TokenizerFiles.VocabSizeFor(FlavorOf(family)),
            HiddenSize = hidden,
            IntermediateSize = intermediate,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            NumKeyValueHeadsRaw = kvHeads,
            HeadDimRaw = hidden / heads,
            MaxPositionEmbeddings = 8192,
            TorchDtype = "float32",
        };
        return family switch
        {
            // Llama-3.2 style: llama3 RoPE scaling and tied embeddings.
            ModelFamily.Llama => shared with
            {
                Architectures = ["LlamaForCausalLM"],
                ModelType = "llama",
                RopeTheta = 500000.0,
                RopeScaling = new RopeScaling { RopeType = "llama3", Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 },
                RmsNormEps = 1e-5,
                TieWordEmbeddings = true,
            },
            // Qwen3 decouples head_dim from hidden/heads; doubling it exercises that path. Untied head.
            ModelFamily.Qwen3 => shared with
            {
                Architectures = ["Qwen3ForCausalLM"],
                ModelType = "qwen3",
                HeadDimRaw = 2 * hidden / heads,
                RopeTheta = 1000000.0,
                RmsNormEps = 1e-6,
                TieWordEmbeddings = false,
            },
            _ => throw new ArgumentException($"Unsupported family {family}."),
        };
    }

    /// <summary>Parses the --arch value.</summary>
    public static ModelFamily ParseFamily(string arch) => arch.ToLowerInvariant() switch
    {
        "llama" => ModelFamily.Llama,
        "qwen3" => ModelFamily.Qwen3,
        _ => throw new ArgumentException($"Unknown architecture '{arch}'; use llama or qwen3."),
    };

    /// <summary>The tokenizer flavour a family's chat template needs.</summary>
    public static TokenizerFlavor FlavorOf(ModelFamily family) => family == ModelFamily.Qwen3 ? TokenizerFlavor.Qwen3 : TokenizerFlavor.Llama3;
}
