using Cartridges.ProvingGround.Vocabulary;

namespace Cartridges.ProvingGround.Tests;

/// <summary>A temporary directory holding the records tokenizer, built once per test run.</summary>
public static class TinyModelDir
{
    static readonly Lazy<IReadOnlyList<string>> LazyPieces = new(() => VocabularySamples.Pieces(1));

    /// <summary>The vocabulary pieces for seed 1.</summary>
    public static IReadOnlyList<string> Pieces => LazyPieces.Value;

    /// <summary>A fresh temporary directory with tokenizer.json and tokenizer_config.json.</summary>
    public static string WithTokenizer()
    {
        var dir = Fresh();
        TokenizerJsonWriter.Write(dir, Pieces);
        return dir;
    }

    /// <summary>A fresh empty temporary directory.</summary>
    public static string Fresh()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pg-tests-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
