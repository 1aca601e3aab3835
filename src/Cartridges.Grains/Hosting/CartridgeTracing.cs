// The engine end of a trace: HTTP request → grain call (Orleans' own activities) → this span around the answer's
// generation on the silo's engine, with what it cost. Spans are created only while a listener (the OTLP exporter) is on.
using System.Diagnostics;

namespace Cartridges.Grains.Hosting;

/// <summary>The activity source of cartridge work on a silo.</summary>
public static class CartridgeTracing
{
    /// <summary>The source name to subscribe to.</summary>
    public const string SourceName = "Cartridges.Engine";

    /// <summary>The source.</summary>
    public static readonly ActivitySource Source = new(SourceName);
}
