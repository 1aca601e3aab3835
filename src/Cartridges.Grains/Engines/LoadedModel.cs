using Cartridges.Model.Chat;
using Cartridges.Model.Config;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Training.Cartridges;

namespace Cartridges.Grains.Engines;

/// <summary>A base model loaded on this silo: its engine (owning every tensor), tokenizer and chat template.</summary>
public sealed class LoadedModel(string name, string directory, GenerationEngine engine, HfTokenizer tokenizer)
{
    /// <summary>Base model name as the silo knows it.</summary>
    public string Name { get; } = name;

    /// <summary>The resolved model directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>The engine (batched decoding, prefixes, device thread).</summary>
    public GenerationEngine Engine { get; } = engine;

    /// <summary>The model's tokenizer.</summary>
    public HfTokenizer Tokenizer { get; } = tokenizer;

    /// <summary>The chat template of the model's family.</summary>
    public ChatTemplate Template { get; } = ChatTemplate.For(CartridgeInitializer.TemplateFamily(engine.Model.Config));

    /// <summary>Sampling settings the model's generation_config.json states for requests that leave them out.</summary>
    public GenerationDefaults SamplingDefaults { get; } = GenerationDefaults.Load(directory);

    /// <summary>Stop token ids of the template.</summary>
    public IReadOnlyCollection<int> StopTokens => Template.StopTokenIds(Tokenizer).ToHashSet();
}
