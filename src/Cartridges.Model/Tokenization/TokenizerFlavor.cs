// Which model family's special tokens a generated test tokenizer carries (see TokenizerFiles).
namespace Cartridges.Model.Tokenization;

/// <summary>The special-token set written by <see cref="TokenizerFiles.WriteGpt2Based"/>.</summary>
public enum TokenizerFlavor
{
    /// <summary>Llama-3 chat tokens; bos &lt;|begin_of_text|&gt;, eos &lt;|eot_id|&gt;.</summary>
    Llama3,

    /// <summary>Qwen3 chat tokens; eos &lt;|im_end|&gt;, pad &lt;|endoftext|&gt;, no bos.</summary>
    Qwen3,
}
