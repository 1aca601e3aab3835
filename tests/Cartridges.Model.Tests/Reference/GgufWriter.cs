// A minimal GGUF v3 writer (F32 tensors only) and a converter from our Hugging Face style model directories
// to the `llama` / `qwen3` GGUF layouts llama.cpp loads, so llama.cpp can score the very same weights.
// Written from the GGUF spec (ggml docs/gguf.md) and the tensor/metadata conventions of convert_hf_to_gguf.py.
using System.Runtime.InteropServices;
using System.Text;
using Cartridges.Model.Config;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using TorchSharp;

namespace Cartridges.Model.Tests.Reference;

/// <summary>Collects metadata and F32 tensors, then writes one GGUF v3 file.</summary>
sealed class GgufWriter
{
    /// <summary>gguf_type values of the spec.</summary>
    enum ValueType : uint
    {
        UInt32 = 4,
        Int32 = 5,
        Float32 = 6,
        Bool = 7,
        String = 8,
        Array = 9,
    }

    const uint GgmlTypeF32 = 0;
    const uint Version = 3;

    readonly List<(string Key, Action<BinaryWriter> Write)> _metadata = [];
    readonly List<(string Name, long[] Ne, float[] Data)> _tensors = [];

    /// <summary>Alignment of the tensor data (written as general.alignment).</summary>
    public uint Alignment { get; }

    public GgufWriter(uint alignment = 32)
    {
        Alignment = alignment;
        AddUInt32("general.alignment", alignment);
    }

    public void AddUInt32(string key, uint value) => Add(key, w => { w.Write((uint)ValueType.UInt32); w.Write(value); });

    public void AddInt32(string key, int value) => Add(key, w => { w.Write((uint)ValueType.Int32); w.Write(value); });

    public void AddFloat32(string key, float value) => Add(key, w => { w.Write((uint)ValueType.Float32); w.Write(value); });

    public void AddBool(string key, bool value) => Add(key, w => { w.Write((uint)ValueType.Bool); w.Write((byte)(value ? 1 : 0)); });

    public void AddString(string key, string value) => Add(key, w => { w.Write((uint)ValueType.String); WriteString(w, value); });

    public void AddStringArray(string key, IReadOnlyList<string> values) => Add(key, w =>
    {
        WriteArrayHeader(w, ValueType.String, values.Count);
        foreach (var v in values) WriteString(w, v);
    });

    public void AddFloat32Array(string key, IReadOnlyList<float> values) => Add(key, w =>
    {
        WriteArrayHeader(w, ValueType.Float32, values.Count);
        foreach (var v in values) w.Write(v);
    });

    public void AddInt32Array(string key, IReadOnlyList<int> values) => Add(key, w =>
    {
        WriteArrayHeader(w, ValueType.Int32, values.Count);
        foreach (var v in values) w.Write(v);
    });

    /// <summary>Adds an F32 tensor given its PyTorch (row-major, outermost first) shape; GGUF stores the dims reversed.</summary>
    public void AddTensor(string name, long[] torchShape, float[] data)
    {
        if (Encoding.UTF8.GetByteCount(name) >= 64) throw new ArgumentException($"GGUF tensor name '{name}' is too long.");
        if (torchShape.Aggregate(1L, (a, b) => a * b) != data.Length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", torchShape)}] does not hold {data.Length} values.");
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"Duplicate tensor '{name}'.");
        _tensors.Add((name, torchShape.Reverse().ToArray(), data));
    }

    void Add(string key, Action<BinaryWriter> write)
    {
        if (_metadata.Any(m => m.Key == key)) throw new ArgumentException($"Duplicate metadata key '{key}'.");
        _metadata.Add((key, write));
    }

    static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    static void WriteArrayHeader(BinaryWriter w, ValueType elementType, int count)
    {
        w.Write((uint)ValueType.Array);
        w.Write((uint)elementType);
        w.Write((ulong)count);
    }

    long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    void Pad(BinaryWriter w)
    {
        var pos = w.BaseStream.Position;
        for (var i = pos; i < Align(pos); i++) w.Write((byte)0);
    }

    /// <summary>Header, metadata, tensor infos, padding, then the aligned tensor data (all little-endian).</summary>
    public void Write(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The GGUF writer assumes a little-endian host.");
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: false);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, write) in _metadata)
        {
            WriteString(w, key);
            write(w);
        }
        long offset = 0;
        foreach (var (name, ne, data) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)ne.Length);
            foreach (var n in ne) w.Write((ulong)n);
            w.Write(GgmlTypeF32);
            w.Write((ulong)offset);
            offset = Align(offset + 4L * data.Length);
        }
        Pad(w);
        var dataStart = stream.Position;
        foreach (var (_, _, data) in _tensors)
        {
            w.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            Pad(w);
        }
        if (stream.Position - dataStart != offset) throw new InvalidOperationException("GGUF tensor data size does not match the offsets written.");
    }
}

/// <summary>Converts a model directory (config.json + model.safetensors, HF layout) to an F32 GGUF for llama.cpp.</summary>
static class GgufConverter
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
