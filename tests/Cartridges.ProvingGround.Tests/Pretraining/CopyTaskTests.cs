using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.ProvingGround.Pretraining;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Tests.Pretraining;

public sealed class CopyTaskTests
{
    // The capability retrieval rests on: a 2-layer model trained by this trainer must learn to copy a repeated
    // span of random words (induction). If this fails, the problem is optimisation, not data volume.
    [Fact]
    public void TwoLayerModel_LearnsToCopyRepeatedWords()
    {
        var recipe = PretrainRecipe.Named("tiny") with { Hidden = 64, Layers = 2, Heads = 2, KvHeads = 2, Intermediate = 128, WarmupSteps = 20, Steps = 400, WeightDecay = 0 };
        var tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());
        var config = RecordsModelConfig.Create(recipe, tokenizer.VocabSize, tokenizer.BosId!.Value, tokenizer.EosId!.Value);
        var init = RecordsModelConfig.InitialWeights(config, 1);
        using var model = TransformerModel.FromTensors(config, init, CPU, ScalarType.Float32);
        using var trainer = new FullParameterTrainer(model, recipe);
        var builder = new SequenceBuilder(tokenizer, recipe);
        var rng = new Random(1);
        List<TrainingSequence> Batch() => Enumerable.Range(0, 16).Select(_ => builder.CopySequence(rng, 16)).ToList();
        double Eval(List<TrainingSequence> b)
        {
            using var scope = NewDisposeScope();
            using var ng = no_grad();
            return trainer.Loss(b).item<float>();
        }
        var held = Batch();
        var before = Eval(held);
        var curve = new List<double>();
        for (var s = 0; s < recipe.Steps; s++)
        {
            trainer.Step(Batch(), s);
            if (s % 50 == 49) curve.Add(Eval(held));
        }
        var after = Eval(held);
        Assert.True(after < 1.0, $"copy loss {before:F2} -> {after:F2}; curve {string.Join(" ", curve.Select(c => c.ToString("F2")))}");
    }
}
