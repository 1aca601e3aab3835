namespace Cartridges.Training.Distillation;

/// <summary>Outcome of a Run/RunAsync call.</summary>
/// <param name="OptimizerStep">Optimizer steps done in total (including those before a resume).</param>
/// <param name="ResumedFromStep">Step of the checkpoint the run resumed from (0 when it started fresh).</param>
/// <param name="FinalLoss">Mean per-token loss of the last optimizer step, here or before the resume (NaN when none ran).</param>
/// <param name="TokensPerSecond">Input tokens per second over the steps run here.</param>
/// <param name="Elapsed">Time spent in steps run here.</param>
public sealed record TrainingSummary(int OptimizerStep, int ResumedFromStep, double FinalLoss, double TokensPerSecond, TimeSpan Elapsed);
