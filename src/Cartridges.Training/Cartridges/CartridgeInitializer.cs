// Initialisation (method §2): by default the KV of the first p tokens of the corpus, computed by one forward
// pass of the frozen model over the system turn that contains the corpus, truncated so it still ends with the
// end-of-turn token. Alternatives: any text (same rendering), or random N(0,1) vectors behind a real sink.
using Cartridges.Model.Chat;
using Cartridges.Model.Config;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Training.Cartridges;

/// <summary>Builds the initial cartridge of p tokens.</summary>
public static class CartridgeInitializer
{
    /// <summary>The chat template family name of a model.</summary>
    public static string TemplateFamily(ModelConfig config) => config.Family == ModelFamily.Qwen3 ? "qwen3" : "llama";

    /// <summary>
    /// The p token ids of a text-based initialisation: the system turn with the text, cut so that it still ends the way
    /// a whole turn ends — end-of-turn plus whatever the template writes between turns (Qwen3's newline) — so a question
    /// rendered for the cartridge continues it exactly as it would continue the whole system turn in context.
    /// </summary>
    public static int[] InitTokens(HfTokenizer tokenizer, ModelConfig config, string text, int p)
    {
        if (p < 2) throw new ArgumentException($"A cartridge needs at least 2 tokens (got {p}).");
        if (p > config.MaxPositionEmbeddings - 1)
            throw new ArgumentException($"Cartridge size {p} exceeds the model's context of {config.MaxPositionEmbeddings} tokens.");
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("The corpus is empty.");
        var template = ChatTemplate.For(TemplateFamily(config));
        var ids = template.Encode(tokenizer, [new ChatMessage("system", text)], addGenerationPrompt: false);
        if (ids.Count < p)
            throw new ArgumentException($"The corpus gives {ids.Count} tokens in its system turn; a cartridge of {p} tokens needs at least {p}.");
        var endOfTurn = template.StopTokenIds(tokenizer)[0];
        var ending = ids.Skip(LastIndexOf(ids, endOfTurn)).ToArray();
        if (p < ending.Length + 1)
            throw new ArgumentException($"A cartridge of this model needs at least {ending.Length + 1} tokens (got {p}).");
        return [.. ids.Take(p - ending.Length), .. ending];
    }

    static int LastIndexOf(IReadOnlyList<int> ids, int id)
    {
        for (var i = ids.Count - 1; i >= 0; i--)
            if (ids[i] == id) return i;
        throw new InvalidOperationException("The rendered system turn has no end-of-turn token.");
    }

    /// <summary>Cartridge = keys/values of the given tokens at positions 0..p-1 (first token frozen).</summary>
    public static Cartridge FromTokens(TransformerModel model, IReadOnlyList<int> tokens, int frozen = 1)
    {
        using var prefix = PrefixBuilder.FromTokens(model, tokens);
        return new Cartridge(prefix.Keys, prefix.Values, frozen);
    }

    /// <summary>Default: first p tokens of the corpus (in its system turn).</summary>
    public static Cartridge FromText(TransformerModel model, HfTokenizer tokenizer, string text, int p, int frozen = 1) =>
        FromTokens(model, InitTokens(tokenizer, model.Config, text, p), frozen);

    /// <summary>Random N(0,1) keys/values, except the frozen sink which is the real KV of the first template token.</summary>
    public static Cartridge Random(TransformerModel model, HfTokenizer tokenizer, int p, long seed, int frozen = 1)
    {
        var first = InitTokens(tokenizer, model.Config, new string('x', 4 * p), p);
        using var sink = PrefixBuilder.FromTokens(model, first.Take(frozen).ToArray());
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        var c = model.Config;
        Tensor Rand(Tensor sinkPart) => cat([sinkPart, randn([c.NumKeyValueHeads, p - frozen, c.HeadDim], generator: gen).to(model.DType, model.Device)], 1);
        return new Cartridge(sink.Keys.Select(Rand).ToArray(), sink.Values.Select(Rand).ToArray(), frozen);
    }
}
