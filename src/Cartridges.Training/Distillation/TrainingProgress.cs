namespace Cartridges.Training.Distillation;

/// <summary>Reported after every optimizer step, for progress bars and the cluster.</summary>
/// <param name="OptimizerStep">Optimizer steps done so far (1-based after the first step).</param>
/// <param name="TotalSteps">Optimizer steps the run is going for.</param>
/// <param name="Loss">Mean loss per loss token over this step's global batch.</param>
/// <param name="LossTokens">Loss tokens in this step's global batch.</param>
/// <param name="TokensPerSecond">Input tokens (all sequence tokens, not only loss tokens) processed per second in this step.</param>
/// <param name="StepTime">Wall time of this step.</param>
/// <param name="Elapsed">Wall time since this process started the run (excludes time before a resume).</param>
/// <param name="Epoch">Data epoch the step's last sequence came from (0-based).</param>
/// <param name="Checkpoint">Directory of the checkpoint written after this step, if any.</param>
public sealed record TrainingProgress(int OptimizerStep, int TotalSteps, double Loss, int LossTokens, double TokensPerSecond,
    TimeSpan StepTime, TimeSpan Elapsed, int Epoch, string? Checkpoint);
