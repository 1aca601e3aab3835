// Scores token ids with llama.cpp on a GGUF file: one batch, logits for every position, everything in float32 on
// the CPU (the settings of LlamaCppNative).
using Cartridges.Cli.LlamaCpp;
using LLama.Native;

namespace Cartridges.Model.Tests.Reference;

/// <summary>An independent reference: llama.cpp's logits for a token sequence.</summary>
static class LlamaCppReference
{
    /// <summary>Logits [T][V] for `tokens` at positions 0..T-1 of one sequence.</summary>
    public static float[][] Logits(string ggufPath, IReadOnlyList<int> tokens, int threads = 2)
    {
        if (tokens.Count == 0) throw new ArgumentException("No tokens.");
        lock (LlamaCppNative.Gate)
        {
            LlamaCppNative.Begin();
            try
            {
                return Run(ggufPath, tokens, threads);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"llama.cpp failed on '{ggufPath}': {e.Message}\n--- llama.cpp log ---\n{LlamaCppNative.LogTail()}", e);
            }
        }
    }

    /// <summary>The llama.cpp log of the last call (model and context set-up messages).</summary>
    public static string LastLog() => LlamaCppNative.LastLog();

    static float[][] Run(string ggufPath, IReadOnlyList<int> tokens, int threads)
    {
        using var model = LlamaCppNative.OpenModel(ggufPath);
        var t = tokens.Count;
        var size = Math.Max(256, (t + 255) / 256 * 256);
        // The whole sequence in one batch and one micro-batch.
        using var ctx = LlamaCppNative.OpenContext(model, size, size, sequences: 1, threads);
        var batch = new LLamaBatch();
        for (var i = 0; i < t; i++) batch.Add((LLamaToken)tokens[i], (LLamaPos)i, LLamaSeqId.Zero, logits: true);
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}.");

        var logits = new float[t][];
        for (var i = 0; i < t; i++) logits[i] = ctx.GetLogitsIth(i).ToArray();
        return logits;
    }
}
