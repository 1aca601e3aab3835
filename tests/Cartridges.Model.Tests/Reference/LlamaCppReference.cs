// Scores token ids with llama.cpp (through LLamaSharp's low-level handles) on a GGUF file: one batch, logits for
// every position, everything in float32 on the CPU (F32 weights, F32 KV cache, no flash attention).
using System.Text;
using LLama.Native;

namespace Cartridges.Model.Tests.Reference;

/// <summary>An independent reference: llama.cpp's logits for a token sequence.</summary>
static class LlamaCppReference
{
    static readonly object Gate = new();
    static readonly StringBuilder Log = new();
    static NativeLogConfig.LLamaLogCallback? _callback; // kept alive while llama.cpp holds the pointer

    /// <summary>Logits [T][V] for `tokens` at positions 0..T-1 of one sequence.</summary>
    public static float[][] Logits(string ggufPath, IReadOnlyList<int> tokens, int threads = 2)
    {
        if (tokens.Count == 0) throw new ArgumentException("No tokens.");
        lock (Gate)
        {
            lock (Log) Log.Clear();
            // Runs NativeApi's static constructor, which picks the CPU build (AVX level) and loads llama.cpp; P/Invokes
            // declared on other types (e.g. LLamaModelParams.Default) only resolve after that.
            NativeApi.llama_empty_call();
            _callback ??= (level, message) =>
            {
                lock (Log) Log.Append(message);
            };
            NativeLogConfig.llama_log_set(_callback);
            try
            {
                return Run(ggufPath, tokens, threads);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                string log;
                lock (Log) log = Log.ToString();
                throw new InvalidOperationException($"llama.cpp failed on '{ggufPath}': {e.Message}\n--- llama.cpp log ---\n{Tail(log, 6000)}", e);
            }
        }
    }

    /// <summary>The llama.cpp log of the last call (model and context set-up messages).</summary>
    public static string LastLog()
    {
        lock (Log) return Log.ToString();
    }

    static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    static float[][] Run(string ggufPath, IReadOnlyList<int> tokens, int threads)
    {
        var mparams = LLamaModelParams.Default();
        mparams.n_gpu_layers = 0;
        mparams.load_mode = LLamaLoadMode.None; // read the file into memory; no mmap of a temp file
        mparams.use_extra_bufts = false;        // no repacked CPU weight layouts
        mparams.check_tensors = true;
        mparams.vocab_only = false;
        using var model = SafeLlamaModelHandle.LoadFromFile(ggufPath, mparams);

        var t = tokens.Count;
        var size = (uint)Math.Max(256, (t + 255) / 256 * 256);
        var cparams = LLamaContextParams.Default();
        cparams.n_ctx = size;
        cparams.n_batch = size;   // the whole sequence in one batch ...
        cparams.n_ubatch = size;  // ... and one micro-batch
        cparams.n_seq_max = 1;
        cparams.n_outputs_max = 0;
        cparams.n_threads = threads;
        cparams.n_threads_batch = threads;
        cparams.type_k = GGMLType.GGML_TYPE_F32; // the default F16 cache would round keys and values
        cparams.type_v = GGMLType.GGML_TYPE_F32;
        cparams.llama_flash_attn_type = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
        cparams.embeddings = false;
        cparams.offload_kqv = false;
        cparams.op_offload = false;
        cparams.no_perf = true;
        using var ctx = SafeLLamaContextHandle.Create(model, cparams);

        var batch = new LLamaBatch();
        for (var i = 0; i < t; i++) batch.Add((LLamaToken)tokens[i], (LLamaPos)i, LLamaSeqId.Zero, logits: true);
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}.");

        var logits = new float[t][];
        for (var i = 0; i < t; i++) logits[i] = ctx.GetLogitsIth(i).ToArray();
        return logits;
    }
}
