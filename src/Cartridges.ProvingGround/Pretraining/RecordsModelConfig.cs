// The Llama config.json of a records model and its from-scratch initialisation.
using Cartridges.Model.Config;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Config and initial weights of a records model.</summary>
public static class RecordsModelConfig
{
    /// <summary>A LlamaForCausalLM config (tied embeddings, plain RoPE) for the recipe and vocabulary.</summary>
    public static ModelConfig Create(PretrainRecipe recipe, int vocabSize, int bosId, int eosId) => new()
    {
        Architectures = ["LlamaForCausalLM"],
        ModelType = "llama",
        // Rows padded to a multiple of 64, as real checkpoints do; the extra ids are never produced.
        VocabSize = (vocabSize + 63) / 64 * 64,
        HiddenSize = recipe.Hidden,
        IntermediateSize = recipe.Intermediate,
        NumHiddenLayers = recipe.Layers,
        NumAttentionHeads = recipe.Heads,
        NumKeyValueHeadsRaw = recipe.KvHeads,
        HeadDimRaw = recipe.Hidden / recipe.Heads,
        MaxPositionEmbeddings = recipe.MaxPositions,
        RopeTheta = 10000.0,
        RmsNormEps = 1e-5,
        TieWordEmbeddings = true,
        BosTokenId = System.Text.Json.JsonSerializer.SerializeToElement(bosId),
        EosTokenId = System.Text.Json.JsonSerializer.SerializeToElement(eosId),
        TorchDtype = "bfloat16",
    };

    /// <summary>
    /// GPT-2 style initialisation: N(0, 0.02) matrices, residual output projections scaled by 1/√(2·layers) so
    /// the residual stream does not grow with depth, norms at 1.
    /// </summary>
    public static Dictionary<string, Tensor> InitialWeights(ModelConfig config, int seed)
    {
        var gen = new Generator((ulong)seed);
        var result = new Dictionary<string, Tensor>();
        using var _ = no_grad();
        var residualScale = 1.0 / Math.Sqrt(2.0 * config.NumHiddenLayers);
        foreach (var (name, shape) in WeightNames.Expected(config))
        {
            if (shape.Length == 1)
                result[name] = ones(shape);
            else
            {
                var std = name.EndsWith("o_proj.weight", StringComparison.Ordinal) || name.EndsWith("down_proj.weight", StringComparison.Ordinal)
                    ? 0.02 * residualScale : 0.02;
                result[name] = randn(shape, generator: gen) * std;
            }
        }
        return result;
    }
}
