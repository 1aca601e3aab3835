// `bench serve`'s training part: the same question asked one at a time on an idle silo, then while another cartridge
// trains on that silo (its optimizer steps share the device with decoding). The device worker gives decode priority,
// so the p50 latency during training should stay within about twice the idle one.
using System.Diagnostics;
using Cartridges.Abstractions;
using Spectre.Console;

namespace Cartridges.Cli.Commands;

/// <summary>Ask latency idle vs during training on the same silo.</summary>
internal static class TrainingInterferenceBench
{
    /// <summary>Figures of one run.</summary>
    public sealed record Result(double IdleP50Ms, double TrainingP50Ms, double TrainingP99Ms, int AsksDuringTraining, int TrainingStepsDuringAsks);

    public static async Task<Result> RunAsync(IGrainFactory grains, ICartridgeGrain asker, string question, AskOptions ask, int p, int asks, CancellationToken ct)
    {
        var idle = new List<double>();
        for (var i = 0; i < asks; i++) idle.Add(await TimeAsync(asker, question, ask));

        var trainee = grains.GetGrain<ICartridgeGrain>(CartridgeKey.Of("bench", "training"));
        await trainee.CreateAsync(new CartridgeSpec
        {
            BaseModel = "default",
            Corpus = DemoCommand.SampleDocument(),
            SizeTokens = p,
            Synthesis = new SynthesisBudget { Conversations = 32, ConversationsPerShard = 16, ChunkMinTokens = 256, ChunkMaxTokens = 512, MaxQuestionTokens = 32, MaxAnswerTokens = 32, EvalShards = 1 },
            // More steps than the measurement needs: it stays in training until deleted.
            Training = new TrainingBudget { Steps = 20_000, BatchSize = 8, CheckpointEvery = 20_000 },
        });
        try
        {
            await trainee.StartAsync();
            var status = await trainee.GetStatusAsync();
            while (status.State != CartridgeState.Training)
            {
                if (status.State is CartridgeState.Failed or CartridgeState.Stopped) throw new InvalidOperationException($"The training cartridge did not reach training: {status.State} {status.Error}");
                await Task.Delay(200, ct);
                status = await trainee.GetStatusAsync();
            }
            // Let the first optimizer step start, so every timed ask competes with training.
            while ((status = await trainee.GetStatusAsync()).Step < 1) await Task.Delay(100, ct);
            var firstStep = status.Step;
            var during = new List<double>();
            for (var i = 0; i < asks; i++) during.Add(await TimeAsync(asker, question, ask));
            var steps = (await trainee.GetStatusAsync()).Step - firstStep;
            var result = new Result(Percentiles.Of(idle, 0.5), Percentiles.Of(during, 0.5), Percentiles.Of(during, 0.99), asks, steps);
            AnsiConsole.MarkupLine($"asks while a cartridge trains on the same silo: p50 {result.TrainingP50Ms:F0} ms (p99 {result.TrainingP99Ms:F0} ms) vs idle p50 " +
                                   $"{result.IdleP50Ms:F0} ms → [bold]{result.TrainingP50Ms / result.IdleP50Ms:F2}×[/]; {steps} optimizer steps ran during the {asks} asks");
            return result;
        }
        finally
        {
            await trainee.DeleteAsync();
        }
    }

    static async Task<double> TimeAsync(ICartridgeGrain grain, string question, AskOptions ask)
    {
        var sw = Stopwatch.StartNew();
        await grain.AskAsync(question, ask);
        return sw.Elapsed.TotalMilliseconds;
    }
}
