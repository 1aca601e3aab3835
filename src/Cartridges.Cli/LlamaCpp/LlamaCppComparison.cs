namespace Cartridges.Cli.LlamaCpp;

/// <summary>Prints our figures beside llama.cpp's, with speed ratios (above 1: ours is faster).</summary>
internal static class LlamaCppComparison
{
    /// <summary>One table: prefill tok/s, then per batch size the decode speed.</summary>
    public static void Print(int prefillTokens, double ourPrefillSeconds, IReadOnlyDictionary<int, double> ourMsPerStep, LlamaCppBench.Figures theirs)
    {
        Console.WriteLine();
        Console.WriteLine("same weights, llama.cpp (F32, CPU, same threads) side by side; ratio = our speed / llama.cpp's");
        Console.WriteLine("| | ours | llama.cpp | ratio |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| prefill {prefillTokens} tokens | {prefillTokens / ourPrefillSeconds:F0} tok/s | {prefillTokens / theirs.PrefillSeconds:F0} tok/s | " +
                          $"{theirs.PrefillSeconds / ourPrefillSeconds:F2}x |");
        foreach (var (b, ours) in ourMsPerStep.OrderBy(x => x.Key))
        {
            if (!theirs.MsPerStep.TryGetValue(b, out var theirMs)) continue;
            var row = b == 1
                ? $"| decode batch 1 | {ours:F1} ms/token | {theirMs:F1} ms/token |"
                : $"| decode batch {b} | {b * 1000 / ours:F0} tok/s | {b * 1000 / theirMs:F0} tok/s |";
            Console.WriteLine($"{row} {theirMs / ours:F2}x |");
        }
    }
}
