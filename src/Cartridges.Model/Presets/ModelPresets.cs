// Built-in architectures for `cartridges model init-random`: small enough for CPU tests and benchmarks,
// shaped like the real families (GQA, llama3 RoPE scaling, Qwen3 q/k-norm with an explicit head_dim).
using Cartridges.Model.Config;
using Cartridges.Model.Tokenization;

namespace Cartridges.Model.Presets;

/// <summary>Named model sizes (tiny, small) for the Llama and Qwen3 families.</summary>
public static class ModelPresets
{
    /// <summary>The config.json of a preset.</summary>
    public static ModelConfig Create(ModelFamily family, string preset)
    {
        var (hidden, layers, heads, kvHeads, intermediate) = preset switch
        {
            "tiny" => (256, 4, 8, 2, 768),
            "small" => (1024, 8, 16, 4, 2816),
            _ => throw new ArgumentException($"Unknown preset '{preset}'; use tiny or small."),
        };
        return family switch
        {
            ModelFamily.Llama => new ModelConfig
            {
                Architectures = ["LlamaForCausalLM"],
                ModelType = "llama",
                VocabSize = TokenizerFiles.VocabSizeFor(TokenizerFlavor.Llama3),
                HiddenSize = hidden,
                IntermediateSize = intermediate,
                NumHiddenLayers = layers,
                NumAttentionHeads = heads,
                NumKeyValueHeadsRaw = kvHeads,
                HeadDimRaw = hidden / heads,
                MaxPositionEmbeddings = 8192,
                RopeTheta = 500000.0,
                RopeScaling = new RopeScaling { RopeType = "llama3", Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 },
                RmsNormEps = 1e-5,
                TieWordEmbeddings = true,
                TorchDtype = "float32",
            },
            ModelFamily.Qwen3 => new ModelConfig
            {
                Architectures = ["Qwen3ForCausalLM"],
                ModelType = "qwen3",
                VocabSize = TokenizerFiles.VocabSizeFor(TokenizerFlavor.Qwen3),
                HiddenSize = hidden,
                IntermediateSize = intermediate,
                NumHiddenLayers = layers,
                NumAttentionHeads = heads,
                NumKeyValueHeadsRaw = kvHeads,
                // Qwen3 decouples head_dim from hidden/heads; doubling it exercises that path.
                HeadDimRaw = 2 * hidden / heads,
                MaxPositionEmbeddings = 8192,
                RopeTheta = 1000000.0,
                RmsNormEps = 1e-6,
                TieWordEmbeddings = false,
                TorchDtype = "float32",
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
