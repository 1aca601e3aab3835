// Latency of every generation, recorded where it is known exactly (the engine's own clock per sequence) and exported by
// whatever meter listener the host adds (the silo: OpenTelemetry, Prometheus /metrics). Names and units follow the
// serving engines' usual set: time to first token, time per output token, queue time, end-to-end latency.
using System.Diagnostics.Metrics;

namespace Cartridges.Model.Engine;

/// <summary>The engine's meter and its histograms.</summary>
public static class EngineMetrics
{
    /// <summary>Name of the meter (add it to a MeterProvider to export these).</summary>
    public const string MeterName = "Cartridges.Engine";

    static readonly Meter Meter = new(MeterName);

    // Boundaries from 5 ms to 2 min: CPU decoding of a small model sits at tens of ms per token, a long answer at minutes.
    static readonly double[] Seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram("cartridges.time_to_first_token", "s",
        "From submission to the first generated token", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    static readonly Histogram<double> TimePerOutputToken = Meter.CreateHistogram("cartridges.time_per_output_token", "s",
        "Mean time between generated tokens after the first, per sequence", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    static readonly Histogram<double> QueueTime = Meter.CreateHistogram("cartridges.queue_time", "s",
        "From submission to admission into the running batch", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    static readonly Histogram<double> EndToEnd = Meter.CreateHistogram("cartridges.e2e_latency", "s",
        "From submission to the last token", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    static readonly Counter<long> Generated = Meter.CreateCounter<long>("cartridges.generated_tokens", "{token}", "Tokens generated");

    internal static void Admitted(TimeSpan queued) => QueueTime.Record(queued.TotalSeconds);

    internal static void Finished(GenerationResult result)
    {
        if (result.Tokens.Count == 0) return;
        TimeToFirstToken.Record(result.TimeToFirstToken.TotalSeconds);
        EndToEnd.Record(result.Elapsed.TotalSeconds);
        if (result.Tokens.Count > 1) TimePerOutputToken.Record((result.Elapsed - result.TimeToFirstToken).TotalSeconds / (result.Tokens.Count - 1));
        Generated.Add(result.Tokens.Count);
    }
}
