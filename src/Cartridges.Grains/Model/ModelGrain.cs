// The cluster-facing face of one silo's engine for one base model. Reentrant: every method only hands work to the
// engine (which batches it on the device thread) or reads stats, so concurrent calls must not queue behind each other.
using Cartridges.Abstractions;
using Cartridges.Grains.Cartridge;
using Cartridges.Grains.Engines;
using Cartridges.Grains.Hosting;
using Cartridges.Grains.Placement;
using Cartridges.Storage;
using Cartridges.Storage.Blobs;
using Cartridges.Training.Data;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Cartridges.Grains.Model;

/// <summary>One per silo per base model: engine stats and synthesis shards run on this silo's engine.</summary>
[SiloKeyedPlacement, AcceleratorOnly, Immovable, Reentrant]
public sealed class ModelGrain(
    SiloEngineHost host,
    IBlobStore blobs,
    ILocalSiloDetails silo,
    ISiloMetadataCache metadata,
    ILogger<ModelGrain> log) : Grain, IModelGrain
{
    string ModelName => SiloKeyedPlacement.Parse(this.GetPrimaryKeyString()).Model;

    /// <inheritdoc />
    public Task<ModelStats> GetStatsAsync()
    {
        var loaded = host.Loaded.FirstOrDefault(m => m.Name == host.Options.CanonicalModelName(ModelName));
        var stats = loaded?.Engine.Stats;
        var declared = AcceleratorMetadata.DeviceMemoryBytes(metadata.GetSiloMetadata(silo.SiloAddress));
        return Task.FromResult(new ModelStats
        {
            Silo = silo.SiloAddress.ToParsableString(),
            Model = ModelName,
            ModelBytes = stats?.WeightBytes ?? 0,
            CartridgeBytes = stats?.PrefixBytes ?? 0,
            Cartridges = stats?.Prefixes ?? 0,
            ActiveSequences = stats?.ActiveSequences ?? 0,
            QueueLength = stats?.QueuedSequences ?? 0,
            MaxBatchSize = stats?.MaxBatchSize ?? 0,
            MeanBatchSize = stats?.MeanBatchSize ?? 0,
            TokensPerSecond = stats?.TokensPerSecond ?? 0,
            TokensGenerated = stats?.TokensGenerated ?? 0,
            DeviceMemoryBytes = declared,
            FreeMemoryBytes = Math.Max(0, declared - host.TotalResidentBytes),
            DecodeSteps = stats?.DecodeSteps ?? 0,
            DecodeRows = stats?.DecodeRows ?? 0,
        });
    }

    /// <inheritdoc />
    public async Task<string> SynthesizeShardAsync(ShardWork work)
    {
        var model = await host.GetAsync(ModelName);
        var corpus = System.Text.Encoding.UTF8.GetString(await blobs.ReadAllAsync(work.CorpusBlob, host.Stopping));
        log.LogInformation("Synthesizing shard {Shard} of {Cartridge} on {Silo}", work.Shard, work.Cartridge, silo.SiloAddress);
        var (bytes, _) = await SynthesisRunner.SynthesizeShardAsync(model.Engine, model.Tokenizer, corpus,
            CartridgeWork.SynthesisOptions(work.Synthesis), work.Shard, host.Stopping);
        using var stream = new MemoryStream(bytes, writable: false);
        var blob = await blobs.PutAsync(stream, host.Stopping);
        return blob.Sha256;
    }
}
