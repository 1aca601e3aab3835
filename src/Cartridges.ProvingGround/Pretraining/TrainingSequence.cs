// One packed training conversation: token ids and, per token, the loss weight of predicting it.
namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Token ids and per-token loss weights (0 = not predicted).</summary>
public sealed record TrainingSequence(int[] Tokens, float[] Weights)
{
    /// <summary>Number of tokens.</summary>
    public int Length => Tokens.Length;
}
