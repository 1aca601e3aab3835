namespace Cartridges.Training.Evaluation;

/// <summary>Held-out distillation loss (mean per answer token, nats) and top-1 agreement with the teacher.</summary>
public sealed record EvalScore(double Loss, double Top1Agreement, int Tokens, int Examples);
