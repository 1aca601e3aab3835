// The checkpoint tensor names and shapes of Llama-3 / Qwen3 in Hugging Face layout, as one literal table.
using Cartridges.Model.Config;

namespace Cartridges.Model.Transformer;

/// <summary>What a checkpoint must contain for a configuration: names (HF layout) and shapes.</summary>
public static class WeightNames
{
    /// <summary>Name of the token embedding.</summary>
    public const string Embed = "model.embed_tokens.weight";
    /// <summary>Name of the final norm.</summary>
    public const string FinalNorm = "model.norm.weight";
    /// <summary>Name of the untied output head.</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>The per-layer tensor name for a short key such as "self_attn.q_proj.weight".</summary>
    public static string Layer(int layer, string key) => $"model.layers.{layer}.{key}";

    /// <summary>Every tensor the model reads, with its shape.</summary>
    public static IEnumerable<(string Name, long[] Shape)> Expected(ModelConfig c)
    {
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        yield return (Embed, [c.VocabSize, h]);
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            foreach (var (key, shape) in LayerTensors(c, h, q, kv)) yield return (Layer(i, key), shape);
        }
        yield return (FinalNorm, [h]);
        if (!c.TieWordEmbeddings) yield return (LmHead, [c.VocabSize, h]);
    }

    static IEnumerable<(string, long[])> LayerTensors(ModelConfig c, long h, long q, long kv)
    {
        yield return ("input_layernorm.weight", [h]);
        yield return ("self_attn.q_proj.weight", [q, h]);
        yield return ("self_attn.k_proj.weight", [kv, h]);
        yield return ("self_attn.v_proj.weight", [kv, h]);
        yield return ("self_attn.o_proj.weight", [h, q]);
        if (c.AttentionBias)
        {
            yield return ("self_attn.q_proj.bias", [q]);
            yield return ("self_attn.k_proj.bias", [kv]);
            yield return ("self_attn.v_proj.bias", [kv]);
            yield return ("self_attn.o_proj.bias", [h]);
        }
        if (c.HasQkNorm)
        {
            yield return ("self_attn.q_norm.weight", [c.HeadDim]);
            yield return ("self_attn.k_norm.weight", [c.HeadDim]);
        }
        yield return ("post_attention_layernorm.weight", [h]);
        yield return ("mlp.gate_proj.weight", [c.IntermediateSize, h]);
        yield return ("mlp.up_proj.weight", [c.IntermediateSize, h]);
        yield return ("mlp.down_proj.weight", [h, c.IntermediateSize]);
    }
}
