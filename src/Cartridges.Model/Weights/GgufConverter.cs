// Converts a model directory (config.json + model.safetensors, Hugging Face layout) to the `llama` / `qwen3` GGUF
// layouts llama.cpp loads, so llama.cpp can run the very same weights; follows the tensor and metadata conventions
// of llama.cpp's convert_hf_to_gguf.py.
using Cartridges.Model.Config;
using Cartridges.Model.Transformer;
using TorchSharp;

namespace Cartridges.Model.Weights;

/// <summary>Converts a model directory (config.json + model.safetensors, HF layout) to an F32 GGUF for llama.cpp.</summary>
public static class GgufConverter
{
    /// <summary>The llama.cpp architecture name of a family.</summary>
    public static string ArchOf(ModelFamily family) => family switch
    {
        ModelFamily.Llama => "llama",
        ModelFamily.Qwen3 => "qwen3",
        _ => throw new ArgumentException($"No GGUF architecture for {family}."),
    };

    /// <summary>
    /// Writes `ggufPath` from the model directory; returns the architecture name used. `ropeFreqs: false` leaves out
    /// the llama3 frequency factors (a deliberately wrong file, for the test's negative control).
    /// </summary>
    public static string Convert(string modelDir, string ggufPath, bool ropeFreqs = true)
    {
        var c = ModelConfig.Load(modelDir);
        if (c.AttentionBias || c.MlpBias) throw new NotSupportedException("Biases are not converted.");
        var arch = ArchOf(c.Family);
        var g = new GgufWriter();
        g.AddString("general.architecture", arch);
        g.AddString("general.name", $"cartridges-reference-{arch}");
        g.AddUInt32($"{arch}.context_length", (uint)c.MaxPositionEmbeddings);
        g.AddUInt32($"{arch}.embedding_length", (uint)c.HiddenSize);
        g.AddUInt32($"{arch}.block_count", (uint)c.NumHiddenLayers);
        g.AddUInt32($"{arch}.feed_forward_length", (uint)c.IntermediateSize);
        g.AddUInt32($"{arch}.attention.head_count", (uint)c.NumAttentionHeads);
        g.AddUInt32($"{arch}.attention.head_count_kv", (uint)c.NumKeyValueHeads);
        g.AddUInt32($"{arch}.attention.key_length", (uint)c.HeadDim);
        g.AddUInt32($"{arch}.attention.value_length", (uint)c.HeadDim);
        g.AddUInt32($"{arch}.rope.dimension_count", (uint)c.HeadDim);
        g.AddFloat32($"{arch}.rope.freq_base", (float)c.RopeTheta);
        g.AddFloat32($"{arch}.attention.layer_norm_rms_epsilon", (float)c.RmsNormEps);
        g.AddUInt32($"{arch}.vocab_size", (uint)c.VocabSize);
        // No tokenizer: llama.cpp then makes `vocab_size` dummy tokens, enough to accept any id below it.
        g.AddString("tokenizer.ggml.model", "none");

        using var st = SafeTensorsFile.Open(Path.Combine(modelDir, "model.safetensors"));
        float[] Read(string name, out long[] shape)
        {
            using var t = st.Read(name, torch.ScalarType.Float32);
            shape = t.shape;
            using var flat = t.contiguous().reshape(-1);
            return flat.data<float>().ToArray();
        }
        void Copy(string hfName, string ggufName, Func<float[], long[], float[]>? transform = null)
        {
            var data = Read(hfName, out var shape);
            g.AddTensor(ggufName, shape, transform is null ? data : transform(data, shape));
        }

        // llama.cpp's `llama` graph uses interleaved (GPT-J) RoPE; HF rotates halves. Reordering each head's q/k
        // rows from [x_0..x_{d/2-1}, y_0..y_{d/2-1}] to [x_0, y_0, x_1, y_1, ...] makes the two agree.
        var interleave = c.Family == ModelFamily.Llama;
        Func<float[], long[], float[]>? PermuteFor(int heads) => interleave ? (d, s) => InterleaveRopeRows(d, s, heads) : null;

        Copy(WeightNames.Embed, "token_embd.weight");
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            string L(string key) => WeightNames.Layer(i, key);
            Copy(L("input_layernorm.weight"), $"blk.{i}.attn_norm.weight");
            Copy(L("self_attn.q_proj.weight"), $"blk.{i}.attn_q.weight", PermuteFor(c.NumAttentionHeads));
            Copy(L("self_attn.k_proj.weight"), $"blk.{i}.attn_k.weight", PermuteFor(c.NumKeyValueHeads));
            Copy(L("self_attn.v_proj.weight"), $"blk.{i}.attn_v.weight");
            Copy(L("self_attn.o_proj.weight"), $"blk.{i}.attn_output.weight");
            if (c.HasQkNorm)
            {
                Copy(L("self_attn.q_norm.weight"), $"blk.{i}.attn_q_norm.weight");
                Copy(L("self_attn.k_norm.weight"), $"blk.{i}.attn_k_norm.weight");
            }
            Copy(L("post_attention_layernorm.weight"), $"blk.{i}.ffn_norm.weight");
            Copy(L("mlp.gate_proj.weight"), $"blk.{i}.ffn_gate.weight");
            Copy(L("mlp.up_proj.weight"), $"blk.{i}.ffn_up.weight");
            Copy(L("mlp.down_proj.weight"), $"blk.{i}.ffn_down.weight");
        }
        Copy(WeightNames.FinalNorm, "output_norm.weight");
        // Tied heads: llama.cpp falls back to token_embd when output.weight is absent.
        if (!c.TieWordEmbeddings) Copy(WeightNames.LmHead, "output.weight");

        if (ropeFreqs && c.RopeScaling is { Type: "llama3" } rs)
        {
            if (c.Family != ModelFamily.Llama) throw new NotSupportedException("llama3 rope scaling is only converted for arch llama.");
            g.AddTensor("rope_freqs.weight", [c.HeadDim / 2], Llama3RopeFactors(c.HeadDim, c.RopeTheta, rs));
        }
        g.Write(ggufPath);
        return arch;
    }

    /// <summary>Per head, row (s * d/2 + j) moves to row (2j + s): rotate-half pairs become adjacent pairs.</summary>
    internal static float[] InterleaveRopeRows(float[] data, long[] shape, int heads)
    {
        var rows = (int)shape[0];
        var cols = (int)(data.Length / rows);
        if (rows % (2 * heads) != 0) throw new ArgumentException($"{rows} rows do not split into {heads} heads of even size.");
        var half = rows / heads / 2;
        var result = new float[data.Length];
        for (var h = 0; h < heads; h++)
        {
            for (var s = 0; s < 2; s++)
            {
                for (var j = 0; j < half; j++)
                {
                    var from = (h * 2 * half + s * half + j) * cols;
                    var to = (h * 2 * half + 2 * j + s) * cols;
                    Array.Copy(data, from, result, to, cols);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// The `rope_freqs` tensor llama.cpp's llama graph divides each rotation frequency by: 1 for short wavelengths,
    /// `factor` for long ones, and 1 / ((1 - smooth) / factor + smooth) in between (convert_hf_to_gguf's Llama-3
    /// rule; computed in float32 as it does).
    /// </summary>
    internal static float[] Llama3RopeFactors(int headDim, double theta, RopeScaling rs)
    {
        var factor = (float)rs.Factor;
        var lowFreq = (float)rs.LowFreqFactor;
        var highFreq = (float)rs.HighFreqFactor;
        var oldContext = (float)rs.OriginalMaxPositionEmbeddings;
        var lowFreqWavelen = oldContext / lowFreq;
        var highFreqWavelen = oldContext / highFreq;
        var result = new float[headDim / 2];
        for (var i = 0; i < result.Length; i++)
        {
            var freq = 1.0f / MathF.Pow((float)theta, (2f * i) / headDim);
            var wavelen = 2f * MathF.PI / freq;
            if (wavelen < highFreqWavelen) result[i] = 1f;
            else if (wavelen > lowFreqWavelen) result[i] = factor;
            else
            {
                var smooth = (oldContext / wavelen - lowFreq) / (highFreq - lowFreq);
                result[i] = 1f / ((1f - smooth) / factor + smooth);
            }
        }
        return result;
    }
}
