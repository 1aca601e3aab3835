using Cartridges.Model.Config;

namespace Cartridges.Training.Evaluation;

/// <summary>KV memory of a cartridge against the KV cache the full corpus would need in context.</summary>
public sealed record MemoryReport(long CartridgeBytes, long IclKvBytes, int CartridgeTokens, int CorpusTokens)
{
    /// <summary>How many times smaller the cartridge is.</summary>
    public double Ratio => CartridgeBytes == 0 ? 0 : (double)IclKvBytes / CartridgeBytes;

    /// <summary>Both sides at the same element size (bytes per value).</summary>
    public static MemoryReport For(ModelConfig config, int cartridgeTokens, int corpusTokens, int elementSize) =>
        new(cartridgeTokens * config.KvBytesPerToken(elementSize), corpusTokens * config.KvBytesPerToken(elementSize), cartridgeTokens, corpusTokens);
}
