// llama.cpp through LLamaSharp's low-level handles, set up to compute exactly what our runtime computes on the CPU:
// F32 weights read into memory (no repacked layouts), an F32 KV cache, no flash attention. Used by
// `bench model --compare-llamacpp` and by the reference-logits tests.
using System.Text;
using LLama.Native;

namespace Cartridges.Cli.LlamaCpp;

/// <summary>Loads llama.cpp once, captures its log, and opens models and contexts with F32 settings.</summary>
internal static class LlamaCppNative
{
    static readonly StringBuilder Log = new();
    static NativeLogConfig.LLamaLogCallback? _callback; // kept alive while llama.cpp holds the pointer

    /// <summary>Serialises callers: llama.cpp's log callback and backend state are process-wide.</summary>
    public static object Gate { get; } = new();

    /// <summary>Loads the native library (once) and starts a fresh log capture.</summary>
    public static void Begin()
    {
        // Runs NativeApi's static constructor, which picks the CPU build (AVX level) and loads llama.cpp; P/Invokes
        // declared on other types (e.g. LLamaModelParams.Default) only resolve after that.
        NativeApi.llama_empty_call();
        lock (Log) Log.Clear();
        _callback ??= (level, message) =>
        {
            lock (Log) Log.Append(message);
        };
        NativeLogConfig.llama_log_set(_callback);
    }

    /// <summary>The llama.cpp log since the last <see cref="Begin"/>.</summary>
    public static string LastLog()
    {
        lock (Log) return Log.ToString();
    }

    /// <summary>The end of the log, for error messages.</summary>
    public static string LogTail(int chars = 6000)
    {
        var log = LastLog();
        return log.Length <= chars ? log : log[^chars..];
    }

    /// <summary>A GGUF model read into memory, on the CPU.</summary>
    public static SafeLlamaModelHandle OpenModel(string ggufPath)
    {
        var p = LLamaModelParams.Default();
        p.n_gpu_layers = 0;
        p.load_mode = LLamaLoadMode.None; // read the file into memory; no mmap of a temp file
        p.use_extra_bufts = false;        // no repacked CPU weight layouts
        p.check_tensors = true;
        p.vocab_only = false;
        return SafeLlamaModelHandle.LoadFromFile(ggufPath, p);
    }

    /// <summary>A context of <paramref name="contextTokens"/> (shared by <paramref name="sequences"/>), F32 cache, no flash attention.</summary>
    public static SafeLLamaContextHandle OpenContext(SafeLlamaModelHandle model, int contextTokens, int batchTokens, int sequences, int threads)
    {
        var p = LLamaContextParams.Default();
        p.n_ctx = (uint)((contextTokens + 255) / 256 * 256);
        p.n_batch = (uint)batchTokens;
        p.n_ubatch = (uint)batchTokens;
        p.n_seq_max = (uint)sequences;
        p.kv_unified = true;  // one cache all sequences share, as our engine's
        p.n_outputs_max = 0;
        p.n_threads = threads;
        p.n_threads_batch = threads;
        p.type_k = GGMLType.GGML_TYPE_F32; // the default F16 cache would round keys and values
        p.type_v = GGMLType.GGML_TYPE_F32;
        p.llama_flash_attn_type = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
        p.embeddings = false;
        p.offload_kqv = false;
        p.op_offload = false;
        p.no_perf = true;
        return SafeLLamaContextHandle.Create(model, p);
    }
}
