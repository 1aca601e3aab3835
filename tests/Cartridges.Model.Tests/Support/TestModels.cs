using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Cartridges.Model.Transformer;
using TorchSharp;

namespace Cartridges.Model.Tests.Support;

/// <summary>Tiny random model directories written once per test run through the real init-random path.</summary>
public static class TestModels
{
    static readonly string Root = Path.Combine(Path.GetTempPath(), "cartridges-tests-" + Environment.ProcessId);
    static readonly Lazy<string> LlamaDir = new(() => Make("llama-tiny", ModelFamily.Llama, 11));
    static readonly Lazy<string> QwenDir = new(() => Make("qwen3-tiny", ModelFamily.Qwen3, 12));
    static readonly object Gate = new();

    static string Make(string name, ModelFamily family, long seed)
    {
        lock (Gate)
        {
            var dir = Path.Combine(Root, name);
            RandomModelWriter.Create(dir, family, "tiny", seed, torch.ScalarType.Float32);
            return dir;
        }
    }

    /// <summary>Directory of the tiny model of a family.</summary>
    public static string Dir(ModelFamily family) => family == ModelFamily.Qwen3 ? QwenDir.Value : LlamaDir.Value;

    /// <summary>Loads the tiny model of a family on the CPU in f32.</summary>
    public static TransformerModel Load(ModelFamily family) => TransformerModel.Load(Dir(family), torch.CPU, torch.ScalarType.Float32);

    /// <summary>A fresh temporary directory removed by the caller.</summary>
    public static string TempDir()
    {
        var dir = Path.Combine(Root, "tmp-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Deterministic pseudo-random token ids in [0, vocab).</summary>
    public static int[] Tokens(int count, int seed, int vocab = 50000)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }
}
