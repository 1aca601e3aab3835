using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using TorchSharp;

namespace Cartridges.Training.Tests.Support;

/// <summary>Tiny random models written once per run through the real init-random path.</summary>
public static class TinyModels
{
    static readonly string Root = Path.Combine(Path.GetTempPath(), "cartridges-training-tests-" + Environment.ProcessId);
    static readonly Lazy<string> LlamaDir = new(() => Make("llama", ModelFamily.Llama, 21));
    static readonly Lazy<string> QwenDir = new(() => Make("qwen3", ModelFamily.Qwen3, 22));
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

    /// <summary>Directory of a family's tiny model.</summary>
    public static string Dir(ModelFamily family) => family == ModelFamily.Qwen3 ? QwenDir.Value : LlamaDir.Value;

    /// <summary>Loads a family's tiny model (CPU, f32).</summary>
    public static TransformerModel Load(ModelFamily family = ModelFamily.Llama) => TransformerModel.Load(Dir(family), torch.CPU, torch.ScalarType.Float32);

    /// <summary>The tokenizer of a family's tiny model.</summary>
    public static HfTokenizer Tokenizer(ModelFamily family = ModelFamily.Llama) => HfTokenizer.Load(Dir(family));

    /// <summary>A fresh temporary directory.</summary>
    public static string TempDir()
    {
        var dir = Path.Combine(Root, "tmp-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Public-domain sample text shipped under tests/data.</summary>
    public static string Corpus(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "tests", "data"))) dir = dir.Parent;
        return File.ReadAllText(Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("tests/data not found"), "tests", "data", name));
    }
}
