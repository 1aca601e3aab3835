// /tokenize and /detokenize need a base model's tokenizer, template and context length, not its weights: a gateway
// silo without an accelerator answers them too, so this loads only tokenizer.json and config.json, once per model.
using Cartridges.Grains.Hosting;
using Cartridges.Model.Chat;
using Cartridges.Model.Config;
using Cartridges.Model.Hub;
using Cartridges.Model.Tokenization;
using Cartridges.Training.Cartridges;
using Microsoft.Extensions.Options;

namespace Cartridges.Silo.Api;

/// <summary>A base model's tokenizer, chat template and context length.</summary>
internal sealed record TokenizerInfo(HfTokenizer Tokenizer, ChatTemplate Template, int MaxModelLength);

/// <summary>Loads base models' tokenizers on demand and keeps them.</summary>
internal sealed class TokenizerCache(IOptions<CartridgesOptions> options)
{
    readonly LoadOnce<string, TokenizerInfo> _loaded = new(StringComparer.Ordinal);

    /// <summary>The tokenizer of base model <paramref name="name"/> (an ArgumentException names an unknown one).</summary>
    public Task<TokenizerInfo> GetAsync(string name, CancellationToken ct)
    {
        var location = options.Value.ResolveModel(name);
        return _loaded.GetAsync(options.Value.CanonicalModelName(name), _ => LoadAsync(location), ct);
    }

    static async Task<TokenizerInfo> LoadAsync(string location)
    {
        var dir = await ModelLocator.ResolveAsync(location);
        var config = ModelConfig.Load(dir);
        return new TokenizerInfo(HfTokenizer.Load(dir), ChatTemplate.For(CartridgeInitializer.TemplateFamily(config)), config.MaxPositionEmbeddings);
    }
}
