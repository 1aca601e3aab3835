using Cartridges.Model.Chat;
using Cartridges.Model.Config;
using Cartridges.Model.Scoring;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Tests.Support;
using static TorchSharp.torch;

namespace Cartridges.Training.Tests.Cartridges;

/// <summary>Cartridge tensors, initialisation, composition and the file format.</summary>
public sealed class CartridgeTests
{
    const string Text = "The lighthouse keeper logged every ship that passed the northern reef. In 1887 the lamp was " +
                        "converted from whale oil to kerosene, and the keeper's daughter, Ada Lind, kept the log for forty years.";

    [Fact]
    public void FirstTokensInit_ReproducesTheTextInContext()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        var ids = CartridgeInitializer.InitTokens(tok, model.Config, Text, 24);
        Assert.Equal(24, ids.Length);
        Assert.Equal(tok.EncodeSpecial("<|eot_id|>"), ids[^1]);
        Assert.Equal(tok.BosId, ids[0]);
        using var cartridge = CartridgeInitializer.FromTokens(model, ids);
        Assert.Equal(24, cartridge.Length);
        Assert.Equal(1, cartridge.Frozen);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int[] question = [100, 200, 300, 400];
        var viaCartridge = SequenceScorer.Logits(model, [question], [new PrefixSegment(cartridge.AsPrefix(), 0)])[0];
        var inContext = SequenceScorer.Logits(model, [[.. ids, .. question]])[0].narrow(0, 24, 4);
        Assert.True((viaCartridge - inContext).abs().max().item<float>() <= 1e-4);
    }

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public void FirstTokensInit_EndsLikeAWholeSystemTurn_SoAQuestionContinuesItAsInContext(ModelFamily family)
    {
        using var model = TinyModels.Load(family);
        var tok = TinyModels.Tokenizer(family);
        var template = ChatTemplate.For(CartridgeInitializer.TemplateFamily(model.Config));
        ChatMessage[] system = [new("system", Text)];
        var whole = template.Encode(tok, system, addGenerationPrompt: false);
        // A cartridge as long as the whole system turn is exactly that turn …
        Assert.Equal(whole, CartridgeInitializer.InitTokens(tok, model.Config, Text, whole.Count));
        // … and a question rendered for the cartridge continues it as the full prompt would (Qwen3's newline after
        // <|im_end|> included).
        ChatMessage[] question = [new("user", "Who kept the log?")];
        var full = template.Encode(tok, [.. system, .. question], addGenerationPrompt: true);
        Assert.Equal(full, [.. whole, .. template.Encode(tok, question, addGenerationPrompt: true, forCartridge: true)]);
        // A shorter cartridge keeps the same ending after the cut.
        var cut = CartridgeInitializer.InitTokens(tok, model.Config, Text, 20);
        var ending = family == ModelFamily.Qwen3 ? whole.TakeLast(2) : whole.TakeLast(1);
        Assert.Equal(ending, cut.TakeLast(ending.Count()));
        Assert.Equal(whole.Take(20 - ending.Count()), cut.Take(20 - ending.Count()));
    }

    [Fact]
    public void Gradients_ReachOnlyTrainableTensors()
    {
        using var model = TinyModels.Load(ModelFamily.Qwen3);
        using var cartridge = CartridgeInitializer.FromText(model, TinyModels.Tokenizer(ModelFamily.Qwen3), Text, 16);
        using var scope = NewDisposeScope();
        var logits = SequenceScorer.Logits(model, [[5, 6, 7]], [new PrefixSegment(cartridge.AsPrefix(), 0)]);
        logits.log_softmax(-1)[0, .., 11].sum().backward();
        Assert.All(cartridge.Parameters, p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
        Assert.All(cartridge.FrozenTensors, t => Assert.False(t.requires_grad));
        Assert.All(model.NamedTensors(), kv => Assert.False(kv.Value.requires_grad));
        Assert.Equal(15, cartridge.Parameters[0].shape[1]);
    }

    [Fact]
    public void File_RoundTrips_AndRefusesAnotherModel()
    {
        using var model = TinyModels.Load();
        using var cartridge = CartridgeInitializer.FromText(model, TinyModels.Tokenizer(), Text, 20);
        var dir = TinyModels.TempDir();
        try
        {
            var path = Path.Combine(dir, "c.safetensors");
            CartridgeFile.Save(path, cartridge, CartridgeMetadata.For("tiny-llama", model.Config, cartridge, training: new { steps = 0 }));
            var (loaded, meta) = CartridgeFile.Load(path, model.Config, ScalarType.Float32, CPU);
            using (loaded)
            {
                Assert.Equal(20, meta.Tokens);
                Assert.Equal("tiny-llama", meta.Model);
                Assert.Contains("steps", meta.Training);
                using var scope = NewDisposeScope();
                var a = cartridge.AsPrefix();
                var b = loaded.AsPrefix();
                for (var i = 0; i < a.Keys.Length; i++)
                {
                    Assert.True(a.Keys[i].eq(b.Keys[i]).all().item<bool>());
                    Assert.True(a.Values[i].eq(b.Values[i]).all().item<bool>());
                }
            }
            var qwen = ModelConfig.Load(TinyModels.Dir(ModelFamily.Qwen3));
            var e = Assert.Throws<InvalidDataException>(() => CartridgeFile.Load(path, qwen, ScalarType.Float32, CPU));
            Assert.Contains("made for model 'tiny-llama'", e.Message);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Composition_KeepsFirstSink_DropsLaterSinks()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        using var a = CartridgeInitializer.FromText(model, tok, Text, 12);
        using var b = CartridgeInitializer.FromText(model, tok, "Second document about bees and honey production in 1920s Ohio, with many numbers.", 9);
        using var pa = a.ToServingPrefix();
        using var pb = b.ToServingPrefix();
        var segments = PrefixSegment.Compose([pa, pb]);
        Assert.Equal(0, segments[0].Start);
        Assert.Equal(1, segments[1].Start);
        Assert.Equal(12 + 8, PrefixSegment.TotalLength(segments));
    }

    [Fact]
    public void BadInput_IsRejectedClearly()
    {
        using var model = TinyModels.Load();
        var tok = TinyModels.Tokenizer();
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => CartridgeInitializer.InitTokens(tok, model.Config, "  ", 8)).Message);
        Assert.Contains("needs at least 4000", Assert.Throws<ArgumentException>(() => CartridgeInitializer.InitTokens(tok, model.Config, Text, 4000)).Message);
        Assert.Contains("exceeds the model's context", Assert.Throws<ArgumentException>(() => CartridgeInitializer.InitTokens(tok, model.Config, Text, 9000)).Message);
    }
}
