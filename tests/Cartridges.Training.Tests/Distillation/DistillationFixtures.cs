// Test data for the trainer, built from the tiny model itself (no dependency on the synthesis code): the teacher is
// the model with a short text in context, scored with SequenceScorer.TopK over [context tokens + student tokens].
using Cartridges.Model.Scoring;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using Cartridges.Training.Data;
using Cartridges.Training.Distillation;

namespace Cartridges.Training.Tests.Distillation;

/// <summary>Synthetic distillation examples and cartridge helpers for trainer tests.</summary>
internal static class DistillationFixtures
{
    public const string Context = "The lighthouse on Skerry Point was built in 1872. Its keeper, Ada Lind, logged every ship " +
                                  "that passed the northern reef and kept bees in the walled garden behind the tower.";

    public const string Unrelated = "Recipe notes: whisk two eggs with flour, add milk slowly, rest the batter for an hour, then fry thin pancakes.";

    static readonly string[] StudentTexts =
    [
        "Who kept the log at Skerry Point? Ada Lind kept it.",
        "When was the lighthouse built? It was built in 1872.",
        "What did the keeper keep in the garden? She kept bees.",
        "Which reef did the ships pass? The northern reef.",
        "Where is the garden? Behind the tower, inside the walls.",
        "What did Ada Lind log? Every ship that passed the reef.",
    ];

    /// <summary>`count` examples (cycling through the student texts); every token after the first is a loss token.</summary>
    public static TrainingExample[] Examples(TransformerModel model, HfTokenizer tokenizer, int count, int k = 8)
    {
        var context = tokenizer.Encode(Context).ToArray();
        var students = Enumerable.Range(0, count).Select(i => tokenizer.Encode(StudentTexts[i % StudentTexts.Length]).ToArray()).ToArray();
        var teacher = SequenceScorer.TopK(model, students.Select(s => (IReadOnlyList<int>)[.. context, .. s]).ToArray(), k);
        return students.Select((s, b) =>
        {
            // Student token i sits at position |context| + i of the teacher's sequence, predicted by the row before it.
            var rows = Enumerable.Range(1, s.Length - 1).Select(i => context.Length + i - 1).ToArray();
            return new TrainingExample(s, s.Select((_, i) => i > 0).ToArray(),
                rows.Select(r => teacher[b].Ids[r]).ToArray(), rows.Select(r => teacher[b].LogProbs[r]).ToArray());
        }).ToArray();
    }

    /// <summary>A cartridge initialised from unrelated text, so distillation has something to learn.</summary>
    public static Cartridge InitialCartridge(TransformerModel model, HfTokenizer tokenizer, int p = 16) =>
        CartridgeInitializer.FromText(model, tokenizer, Unrelated, p);

    /// <summary>An independent copy with the same values.</summary>
    public static Cartridge Clone(Cartridge c)
    {
        using var prefix = c.ToServingPrefix();
        return new Cartridge(prefix.Keys, prefix.Values, c.Frozen);
    }

    /// <summary>True when every tensor of both cartridges is bit-for-bit equal.</summary>
    public static bool SameValues(Cartridge a, Cartridge b) =>
        a.Parameters.Concat(a.FrozenTensors).Zip(b.Parameters.Concat(b.FrozenTensors)).All(x => x.First.eq(x.Second).all().item<bool>());

    /// <summary>Largest absolute difference between the trainable tensors of two cartridges.</summary>
    public static float MaxDifference(Cartridge a, Cartridge b) =>
        a.Parameters.Zip(b.Parameters).Max(x => (x.First - x.Second).abs().max().item<float>());

    /// <summary>Collects progress synchronously on the reporting thread (Progress&lt;T&gt; would post it elsewhere).</summary>
    public sealed class Recorder(Action<TrainingProgress>? onStep = null) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Steps { get; } = [];

        public void Report(TrainingProgress value)
        {
            Steps.Add(value);
            onStep?.Invoke(value);
        }
    }
}
