// The data of optimizer step s, a pure function of (seed, s): resuming from a checkpoint replays exactly the
// batches an uninterrupted run would have seen; a gated curriculum's ceiling is the only state, kept in the
// checkpoint. Curriculum: the record count of each step is uniform in [ceiling/2 (or the recipe's floor), ceiling], the ceiling ramping
// from StartRecords to MaxRecords (or growing when the gate passes).
using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Deterministic training batches for a recipe.</summary>
public sealed class BatchSampler(SequenceBuilder builder, PretrainRecipe recipe)
{
    readonly RecordsGenerator _generator = recipe.Generator(RecordSplit.Train);

    /// <summary>Records per document at step <paramref name="step"/> (under <paramref name="ceiling"/>, default the recipe's ramp).</summary>
    public int RecordsAt(int step, int? ceiling = null)
    {
        var max = ceiling ?? recipe.RecordCeiling(step);
        var rng = _generator.StreamRng("records-count", step);
        return SizeIn(rng, max);
    }

    int SizeIn(Random rng, int max)
    {
        var floor = recipe.RecordsFloor > 0 ? Math.Min(recipe.RecordsFloor, max) : max / 2;
        return rng.Next(Math.Max(recipe.MinRecords, floor), max + 1);
    }

    /// <summary>The sequences of step <paramref name="step"/>: as many documents as fit the token budget (at least one).</summary>
    public IReadOnlyList<TrainingSequence> Batch(int step, int? ceiling = null)
    {
        var records = RecordsAt(step, ceiling);
        var rng = _generator.StreamRng("batch", step);
        // Mixed sizes: every document draws its own record count from the step's range, from a stream of its own (so
        // recipes without the option replay their exact batches).
        var sizes = recipe.MixedSizes ? _generator.StreamRng("document-sizes", step) : null;
        var result = new List<TrainingSequence>();
        var longest = 0;
        for (var i = 0; ; i++)
        {
            var doc = _generator.Document((long)step * 1000 + i, sizes is null ? records : SizeIn(sizes, ceiling ?? recipe.RecordCeiling(step)));
            var seq = recipe.DrillShare > 0 && recipe.Facts.IsKeyed() && rng.NextDouble() < recipe.DrillShare
                // The ordered draw is skipped when the share is 0, so earlier recipes replay their exact batches.
                ? builder.DrillSequence(doc, rng, ordered: recipe.OrderedDrillShare > 0 && rng.NextDouble() < recipe.OrderedDrillShare)
                : builder.Chat(_generator, doc, rng);
            if (seq.Length > recipe.MaxPositions) seq = seq with { Tokens = seq.Tokens[..recipe.MaxPositions], Weights = seq.Weights[..recipe.MaxPositions] };
            var padded = Math.Max(longest, seq.Length) * (result.Count + 1);
            if (result.Count > 0 && padded > recipe.TokensPerStep) break;
            result.Add(seq);
            longest = Math.Max(longest, seq.Length);
        }
        // Copy sequences as long as the batch's padded length, so they cost no extra padding.
        for (var c = 0; c < recipe.CopySequencesPerStep; c++)
            result.Add(builder.CopySequence(rng, (longest - 1) / 2));
        return result;
    }
}
