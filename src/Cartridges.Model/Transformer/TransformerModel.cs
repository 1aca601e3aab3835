// Llama-3 / Qwen3 decoder-only transformer (RMSNorm, RoPE with llama3 scaling, GQA, SwiGLU, tied or untied
// head; Qwen3 adds per-head q/k RMSNorm before RoPE). Functional over plain tensors: the model is frozen,
// so it holds weights, not modules. Keys/values come from shared prefixes plus each sequence's own cache.
using Cartridges.Model.Config;
using Cartridges.Model.Weights;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Cartridges.Model.Runtime;

namespace Cartridges.Model.Transformer;

/// <summary>A loaded causal LM; run it on one thread (TorchSharp scopes are per-thread).</summary>
public sealed class TransformerModel : IDisposable
{
    readonly Dictionary<string, Tensor> _named;
    readonly LayerWeights[] _layers;
    readonly Tensor _embed, _norm, _lmHead;
    readonly RotaryEmbedding _rope;

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }

    internal LayerWeights[] Layers => _layers;
    internal Tensor Embedding => _embed;
    internal Tensor FinalNorm => _norm;
    internal RotaryEmbedding Rope => _rope;

    /// <summary>Device holding the weights.</summary>
    public Device Device { get; }

    /// <summary>Compute dtype.</summary>
    public ScalarType DType { get; }

    /// <summary>Number of distinct parameters (tied embeddings counted once).</summary>
    public long ParameterCount => _named.Values.Sum(t => t.NumberOfElements);

    /// <summary>Bytes of resident weights.</summary>
    public long WeightBytes => _named.Values.Sum(t => t.NumberOfElements * t.ElementSize);

    /// <summary>Bytes one token's keys and values take in this model's compute dtype (every layer).</summary>
    public long KvBytesPerToken => Config.KvBytesPerToken((int)_embed.ElementSize);

    TransformerModel(ModelConfig config, Dictionary<string, Tensor> named, Device device, ScalarType dtype)
    {
        config.Validate();
        (Config, _named, Device, DType) = (config, named, device, dtype);
        _embed = named[WeightNames.Embed];
        _norm = named[WeightNames.FinalNorm];
        _lmHead = config.TieWordEmbeddings ? _embed : named[WeightNames.LmHead];
        _layers = new LayerWeights[config.NumHiddenLayers];
        for (var i = 0; i < _layers.Length; i++)
        {
            var layer = i;
            _layers[i] = LayerWeights.From(k => named[WeightNames.Layer(layer, k)],
                k => named.GetValueOrDefault(WeightNames.Layer(layer, k)));
        }
        _rope = new RotaryEmbedding(config, dtype, device);
    }

    /// <summary>The default compute dtype: bf16 on CUDA, f32 on CPU.</summary>
    public static ScalarType DefaultDType(Device device) => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Loads config.json and the safetensors weights of a model directory.</summary>
    public static TransformerModel Load(string modelDir, Device? device = null, ScalarType? dtype = null)
    {
        var config = ModelConfig.Load(modelDir);
        device ??= TorchRuntime.DefaultDevice;
        var type = dtype ?? DefaultDType(device);
        using var reader = CheckpointReader.Open(modelDir);
        if (config.TieWordEmbeddings is false && !reader.Contains(WeightNames.LmHead))
            throw new ModelLoadException($"config.json says tie_word_embeddings=false but the checkpoint has no '{WeightNames.LmHead}'.");
        var named = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, shape) in WeightNames.Expected(config))
            {
                using var cpu = reader.Read(name, shape, type);
                named[name] = cpu.to(device).detach().DetachFromDisposeScope();
            }
        }
        catch
        {
            foreach (var t in named.Values) t.Dispose();
            throw;
        }
        return new TransformerModel(config, named, device, type);
    }

    /// <summary>Builds a model from tensors already in memory (checked against the config's table).</summary>
    public static TransformerModel FromTensors(ModelConfig config, IReadOnlyDictionary<string, Tensor> tensors, Device? device = null, ScalarType? dtype = null)
    {
        device ??= TorchRuntime.DefaultDevice;
        var type = dtype ?? DefaultDType(device);
        var named = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in WeightNames.Expected(config))
        {
            if (!tensors.TryGetValue(name, out var t)) throw new ModelLoadException($"Missing tensor '{name}'.");
            if (!t.shape.SequenceEqual(shape))
                throw new ModelLoadException($"Tensor '{name}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}].");
            named[name] = t.detach().to(type, device).clone().DetachFromDisposeScope();
        }
        return new TransformerModel(config, named, device, type);
    }

    /// <summary>The weights under their Hugging Face names (tied head not repeated).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors() => _named;

    /// <summary>A cache sized for this model.</summary>
    public KvCache NewCache(int slots = 1, int length = 64, int maxBlocks = 0) =>
        new(Config.NumHiddenLayers, Config.NumKeyValueHeads, Config.HeadDim, DType, Device, slots, length, maxBlocks: maxBlocks);

    static Tensor RmsNorm(Tensor x, Tensor weight, double eps)
    {
        var xf = x.to(ScalarType.Float32);
        var normed = xf * xf.square().mean([-1], keepdim: true).Plus(eps).rsqrt();
        return weight * normed.to(x.dtype);
    }

    /// <summary>Runs the decoder; returns final-normed hidden states [B, T, hidden]. Appends to the cache if given.</summary>
    public Tensor Forward(ForwardBatch batch)
    {
        using var scope = NewDisposeScope();
        var c = Config;
        var tokens = batch.Tokens;
        var b = (int)tokens.shape[0];
        var t = (int)tokens.shape[1];
        var valid = batch.ValidLengths ?? Enumerable.Repeat(t, b).ToArray();
        using var threads = FewRowThreads.Enter(FewRowPass(b * t));
        var cache = batch.Cache;
        var slots = batch.Slots ?? (cache is null ? [] : throw new ArgumentException("A cache needs slots."));
        if (cache is not null && slots.Length != b) throw new ArgumentException($"{slots.Length} slots for {b} sequences.");
        if (valid.Length != b || valid.Any(v => v < 1 || v > t)) throw new ArgumentException("Each valid length must be in 1..T.");
        if (batch.Prefixes is { } pre && pre.Length != b) throw new ArgumentException($"{pre.Length} prefix lists for {b} sequences.");

        var cached = new int[b];
        var starts = new long[b];
        for (var i = 0; i < b; i++)
        {
            cached[i] = cache?.LengthOf(slots[i]) ?? 0;
            var prefixLen = batch.Prefixes?[i] is not { Count: > 0 } segs ? 0
                : batch.SharedPrefixPositions ? segs.Max(seg => seg.Prefix.Length) : PrefixSegment.TotalLength(segs);
            starts[i] = prefixLen + cached[i];
            batch.Prefixes?[i]?.ToList().ForEach(s => s.Prefix.CheckCompatible(c.NumHiddenLayers, c.NumKeyValueHeads, c.HeadDim));
        }
        var maxPosition = (int)(starts.Max() + t - 1);
        if (maxPosition >= c.MaxPositionEmbeddings)
            throw new ArgumentException($"Position {maxPosition} exceeds the model's context of {c.MaxPositionEmbeddings} tokens.");
        if (!batch.TensorPath && DecodeStep.Applies(this, batch))
            return DecodeStep.Run(this, batch, slots, cached, starts, maxPosition).MoveToOuterDisposeScope();

        var ownLength = cached.Select((n, i) => n + t).Max();
        using var plan = cache?.Plan(slots, t, ownLength);

        var steps = arange(t, dtype: ScalarType.Int64, device: Device);
        var positions = tensor(starts, device: Device).unsqueeze(1).Plus(steps.unsqueeze(0));

        // Own-key mask: key j is visible to query i of sequence b iff j <= cached_b + i and j < cached_b + valid_b.
        // Built on the device from two index vectors: [T, own length] per pass, which chunked prefill keeps linear
        // in the document (a pass is at most one chunk of queries).
        var cachedT = tensor(cached.Select(x => (long)x).ToArray(), device: Device).view(b, 1, 1);
        var queryPos = cachedT.Plus(steps.view(1, t, 1));
        var keyPos = arange(ownLength, dtype: ScalarType.Int64, device: Device).view(1, 1, ownLength);
        var limit = cachedT.Plus(tensor(valid.Select(x => (long)x).ToArray(), device: Device).view(b, 1, 1));
        var notAllowed = (keyPos.gt(queryPos) | keyPos.ge(limit)).view(b, 1, 1, t, ownLength);

        var hq = c.NumAttentionHeads;
        var hkv = c.NumKeyValueHeads;
        var d = c.HeadDim;
        var g = hq / hkv;
        var x = _embed.index_select(0, tokens.reshape(-1)).view(b, t, -1);
        for (var l = 0; l < _layers.Length; l++)
        {
            // A scope per layer frees its temporaries (attention scores above all) before the next layer.
            using var layerScope = NewDisposeScope();
            var w = _layers[l];
            var h = RmsNorm(x, w.InputNorm, c.RmsNormEps);
            var q = Linear(h, w.Wq, w.Bq).view(b, t, hq, d);
            var k = Linear(h, w.Wk, w.Bk).view(b, t, hkv, d);
            var v = Linear(h, w.Wv, w.Bv).view(b, t, hkv, d);
            if (w.QNorm is not null) q = RmsNorm(q, w.QNorm, c.RmsNormEps);
            if (w.KNorm is not null) k = RmsNorm(k, w.KNorm, c.RmsNormEps);
            q = _rope.Apply(q, positions, maxPosition);
            k = _rope.Apply(k, positions, maxPosition);
            var kh = k.permute(0, 2, 1, 3); // [B, n_kv, T, D]
            var vh = v.permute(0, 2, 1, 3);
            Tensor kOwn = kh, vOwn = vh;
            if (plan is not null)
            {
                cache!.Write(l, plan, kh, vh);
                (kOwn, vOwn) = cache.Read(l, plan);
            }
            var qh = q.view(b, t, hkv, g, d).permute(0, 2, 3, 1, 4).reshape(b, hkv, g * t, d); // rows = g*T + i
            var attn = PrefixAttention.Forward(qh, kOwn, vOwn, notAllowed, g, causal: cache is null, batch.Prefixes, l);
            var o = attn.view(b, hkv, g, t, d).permute(0, 3, 1, 2, 4).reshape(b, t, hq * d);
            x = x.Plus(Linear(o, w.Wo, w.Bo));
            h = RmsNorm(x, w.PostNorm, c.RmsNormEps);
            x = x.Plus(Linear(F.silu(Linear(h, w.Gate)) * Linear(h, w.Up), w.Down)).MoveToOuterDisposeScope();
        }
        cache?.Advance(slots, valid);
        return RmsNorm(x, _norm, c.RmsNormEps).MoveToOuterDisposeScope();
    }

    /// <summary>Output-head logits in float32 for hidden states [..., hidden].</summary>
    public Tensor Logits(Tensor hidden)
    {
        using var threads = FewRowThreads.Enter(FewRowPass(hidden.NumberOfElements / hidden.shape[^1]));
        if (FewRowLinear.Applies(hidden, _lmHead, null)) return FewRowLinear.Forward(hidden, _lmHead, null);
        if (_headTransposed is not null && hidden.NumberOfElements == hidden.shape[^1])
        {
            var shape = hidden.shape.ToArray();
            shape[^1] = _headTransposed.shape[1];
            return mm(hidden.reshape(1, -1), _headTransposed).reshape(shape).to(ScalarType.Float32);
        }
        return Linear(hidden, _lmHead).to(ScalarType.Float32);
    }

    Tensor? _headTransposed;

    /// <summary>Whether a pass over <paramref name="rows"/> rows is a decode step whose projections run in <see cref="FewRowLinear"/>.</summary>
    bool FewRowPass(long rows) => rows <= FewRowLinear.MaxRows && Device.type == DeviceType.CPU && DType == ScalarType.Float32;

    /// <summary>
    /// For serving on the CPU: keeps a [hidden, vocab] copy of the output head, from which one row of logits (a decode
    /// step at batch 1) is computed about twice as fast as from the [vocab, hidden] weight (measured: 6.7 vs 13.8 ms for
    /// a 50304 × 512 head; BLAS streams x·Wᵀ with Wᵀ contiguous at twice the bandwidth of W·x). It costs the head's bytes
    /// once more, so only heads up to <paramref name="maxExtraBytes"/> get one; the weights must not change afterwards
    /// (serving never trains the base model). Returns whether the copy was made.
    /// </summary>
    public bool KeepTransposedHead(long maxExtraBytes)
    {
        if (_headTransposed is not null) return true;
        if (Device.type != DeviceType.CPU || _lmHead.NumberOfElements * _lmHead.ElementSize > maxExtraBytes) return false;
        using var _ = no_grad();
        _headTransposed = _lmHead.t().contiguous().DetachFromDisposeScope();
        return true;
    }

    /// <summary>
    /// x @ wᵀ (+ b). Up to eight float32 rows (decode) go to <see cref="FewRowLinear"/>; for a few more rows on the CPU,
    /// BLAS streams the weight far better as w @ xᵀ (measured 1.4-1.9x on the small preset's shapes at 8 rows);
    /// otherwise the usual linear.
    /// </summary>
    static Tensor Linear(Tensor x, Tensor w, Tensor? b = null)
    {
        if (FewRowLinear.Applies(x, w, b)) return FewRowLinear.Forward(x, w, b);
        var rows = x.NumberOfElements / x.shape[^1];
        if (rows < 2 || rows > 64 || x.device_type != DeviceType.CPU) return F.linear(x, w, b);
        var flat = x.reshape(rows, x.shape[^1]);
        var y = mm(w, flat.t()).t();
        if (b is not null) y = y.Plus(b);
        var shape = x.shape.ToArray();
        shape[^1] = w.shape[0];
        return y.reshape(shape);
    }

    /// <summary>Hidden state of the last valid token of each sequence: [B, hidden].</summary>
    public static Tensor LastValid(Tensor hidden, int[] validLengths)
    {
        using var idx = tensor(validLengths.Select(v => (long)v - 1).ToArray(), device: hidden.device);
        return hidden[arange(hidden.shape[0], device: hidden.device), idx];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _named.Values) t.Dispose();
        _headTransposed?.Dispose();
        _rope.Dispose();
    }
}
