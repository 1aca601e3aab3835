// Shared by the tokenizer and chat tests: GPT-2-based tokenizer files for both flavors, written and loaded once,
// plus Microsoft.ML.Tokenizers' own tiktoken GPT-2 as the reference for ids.
using Cartridges.Model.Tokenization;
using Microsoft.ML.Tokenizers;

namespace Cartridges.Model.Tests.Tokenization;

public sealed class Gpt2TokenizerFixture : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), "cartridges-tok-" + Guid.NewGuid().ToString("N"));

    public Gpt2TokenizerFixture()
    {
        Llama3Dir = Path.Combine(_root, "llama3");
        Qwen3Dir = Path.Combine(_root, "qwen3");
        TokenizerFiles.WriteGpt2Based(Llama3Dir, TokenizerFlavor.Llama3);
        TokenizerFiles.WriteGpt2Based(Qwen3Dir, TokenizerFlavor.Qwen3);
        Llama3 = HfTokenizer.Load(Llama3Dir);
        Qwen3 = HfTokenizer.Load(Qwen3Dir);
        Tiktoken = TiktokenTokenizer.CreateForModel("gpt2");
    }

    public string Llama3Dir { get; }

    public string Qwen3Dir { get; }

    public HfTokenizer Llama3 { get; }

    public HfTokenizer Qwen3 { get; }

    public TiktokenTokenizer Tiktoken { get; }

    public HfTokenizer For(TokenizerFlavor flavor) => flavor == TokenizerFlavor.Llama3 ? Llama3 : Qwen3;

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
