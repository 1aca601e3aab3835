namespace Cartridges.Training.Data;

/// <summary>
/// One synthesized conversation for distillation. `Tokens` is the student's input: the conversation in the
/// cartridge chat variant (no BOS, no date header; it starts at the user header). `LossMask[i]` marks tokens
/// the student must predict (from position i-1); LossMask[0] is always false. For the n-th marked token,
/// `TopKIds[n]`/`TopKLogProbs[n]` hold the teacher's top-k (fp32, untempered) distribution over that token.
/// </summary>
public sealed record TrainingExample(int[] Tokens, bool[] LossMask, int[][] TopKIds, float[][] TopKLogProbs)
{
    /// <summary>Throws if the arrays disagree.</summary>
    public void Validate(string source)
    {
        if (Tokens.Length == 0 || LossMask.Length != Tokens.Length) throw new InvalidDataException($"{source}: loss mask length differs from token count.");
        if (LossMask[0]) throw new InvalidDataException($"{source}: the first token cannot be a loss token.");
        var n = LossMask.Count(m => m);
        if (TopKIds.Length != n || TopKLogProbs.Length != n) throw new InvalidDataException($"{source}: {n} loss tokens but {TopKIds.Length} top-k rows.");
        for (var i = 0; i < n; i++)
        {
            if (TopKIds[i].Length != TopKLogProbs[i].Length) throw new InvalidDataException($"{source}: top-k row {i} has mismatched ids and log-probs.");
        }
    }
}
