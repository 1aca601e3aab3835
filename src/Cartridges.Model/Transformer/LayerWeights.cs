using static TorchSharp.torch;

namespace Cartridges.Model.Transformer;

/// <summary>One decoder block's tensors (HF names in comments).</summary>
internal sealed class LayerWeights : IDisposable
{
    public required Tensor InputNorm { get; init; }     // input_layernorm.weight
    public required Tensor Wq { get; init; }            // self_attn.q_proj.weight
    public required Tensor Wk { get; init; }            // self_attn.k_proj.weight
    public required Tensor Wv { get; init; }            // self_attn.v_proj.weight
    public required Tensor Wo { get; init; }            // self_attn.o_proj.weight
    public Tensor? Bq { get; init; }
    public Tensor? Bk { get; init; }
    public Tensor? Bv { get; init; }
    public Tensor? Bo { get; init; }
    public Tensor? QNorm { get; init; }                 // self_attn.q_norm.weight (Qwen3)
    public Tensor? KNorm { get; init; }                 // self_attn.k_norm.weight (Qwen3)
    public required Tensor PostNorm { get; init; }      // post_attention_layernorm.weight
    public required Tensor Gate { get; init; }          // mlp.gate_proj.weight
    public required Tensor Up { get; init; }            // mlp.up_proj.weight
    public required Tensor Down { get; init; }          // mlp.down_proj.weight

    public static LayerWeights From(Func<string, Tensor> get, Func<string, Tensor?> maybe) => new()
    {
        InputNorm = get("input_layernorm.weight"),
        Wq = get("self_attn.q_proj.weight"),
        Wk = get("self_attn.k_proj.weight"),
        Wv = get("self_attn.v_proj.weight"),
        Wo = get("self_attn.o_proj.weight"),
        Bq = maybe("self_attn.q_proj.bias"),
        Bk = maybe("self_attn.k_proj.bias"),
        Bv = maybe("self_attn.v_proj.bias"),
        Bo = maybe("self_attn.o_proj.bias"),
        QNorm = maybe("self_attn.q_norm.weight"),
        KNorm = maybe("self_attn.k_norm.weight"),
        PostNorm = get("post_attention_layernorm.weight"),
        Gate = get("mlp.gate_proj.weight"),
        Up = get("mlp.up_proj.weight"),
        Down = get("mlp.down_proj.weight"),
    };

    public void Dispose()
    {
        foreach (var t in new[] { InputNorm, Wq, Wk, Wv, Wo, Bq, Bk, Bv, Bo, QNorm, KNorm, PostNorm, Gate, Up, Down })
            t?.Dispose();
    }
}
