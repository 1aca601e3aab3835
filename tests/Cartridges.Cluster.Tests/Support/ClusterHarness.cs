// Starts an in-process TestCluster that runs the product's silo configuration over a tiny random model.
using Cartridges.Abstractions;
using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Microsoft.Extensions.Configuration;
using Cartridges.Storage.Hosting;
using Orleans.TestingHost;
using TorchSharp;

namespace Cartridges.Cluster.Tests.Support;

/// <summary>A test cluster plus the directories it uses; disposing stops it and deletes them.</summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    static readonly Lazy<string> TinyModel = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"cartridges-cluster-tests-{Environment.ProcessId}", "tiny");
        RandomModelWriter.Create(dir, ModelFamily.Llama, "tiny", 31, torch.ScalarType.Float32);
        return dir;
    });

    ClusterHarness(TestCluster cluster, string dataDir) => (Cluster, DataDirectory) = (cluster, dataDir);

    /// <summary>The cluster.</summary>
    public TestCluster Cluster { get; }

    /// <summary>The Local profile's data directory (grain state, blobs).</summary>
    public string DataDirectory { get; }

    /// <summary>The tiny model directory every silo serves as "tiny".</summary>
    public static string ModelDirectory => TinyModel.Value;

    /// <summary>The cluster client.</summary>
    public IClusterClient Client => Cluster.Client;

    /// <summary>Starts <paramref name="silos"/> silos; <paramref name="gpuSilos"/> names the accelerator silos ("*" = all).</summary>
    /// <remarks>
    /// With <paramref name="postgres"/> the cluster runs the Postgres profile (ADO.NET clustering, grain storage,
    /// reminders, blobs) on that database, under <paramref name="serviceId"/>, so a second cluster with the same
    /// service id finds everything again; otherwise the Local profile under a fresh data directory.
    /// </remarks>
    public static async Task<ClusterHarness> StartAsync(int silos, string gpuSilos = "*", IDictionary<string, string?>? extra = null,
        string? postgres = null, string? serviceId = null)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"cartridges-cluster-tests-{Environment.ProcessId}", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var builder = new TestClusterBuilder((short)silos);
        // Placement filters are skipped when silos are assumed homogeneous; ours must run.
        builder.Options.AssumeHomogenousSilosForTesting = false;
        if (postgres is not null)
        {
            builder.Options.UseTestClusterMembership = false;
            builder.Options.ServiceId = serviceId ?? "cartridges-tests";
            builder.Options.ClusterId = "c-" + Guid.NewGuid().ToString("N")[..8];
            builder.Properties[PostgresClient.ConnectionStringKey] = postgres;
            builder.AddClientBuilderConfigurator<PostgresClient>();
        }
        var settings = new Dictionary<string, string?>
        {
            ["Test:GpuSilos"] = gpuSilos,
            ["Cartridges:Profile"] = postgres is null ? "Local" : "Postgres",
            ["ConnectionStrings:Postgres"] = postgres,
            ["Cartridges:MinimumReminderPeriod"] = "00:00:02",
            ["Cartridges:ResumeReminderPeriod"] = "00:00:03",
            ["Cartridges:DataDirectory"] = dataDir,
            ["Cartridges:DefaultModel"] = "tiny",
            ["Cartridges:Models:tiny"] = ModelDirectory,
            ["Cartridges:Device"] = "cpu",
            ["Cartridges:StatsRefresh"] = "00:00:01",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        builder.ConfigureHostConfiguration(c => c.AddInMemoryCollection(settings));
        builder.AddSiloBuilderConfigurator<ClusterSiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new ClusterHarness(cluster, dataDir);
    }

    /// <summary>Joins test clients to the Postgres-profile cluster through the membership table.</summary>
    sealed class PostgresClient : IClientBuilderConfigurator
    {
        public const string ConnectionStringKey = "Test:Postgres";

        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseCartridgesPostgresClustering(configuration[ConnectionStringKey]!);
    }

    /// <summary>The silo handle of a silo address.</summary>
    public SiloHandle Silo(string parsableAddress) =>
        Cluster.Silos.Single(s => s.SiloAddress.ToParsableString() == parsableAddress);

    /// <summary>A small, fast spec over <paramref name="corpus"/> for the tiny model.</summary>
    public static CartridgeSpec TinySpec(string corpus, int steps = 6, int checkpointEvery = 2, ulong seed = 1) => new()
    {
        BaseModel = "tiny",
        Corpus = corpus,
        SizeTokens = 16,
        Synthesis = new SynthesisBudget
        {
            Conversations = 8,
            ConversationsPerShard = 2,
            ChunkMinTokens = 32,
            ChunkMaxTokens = 64,
            MaxQuestionTokens = 8,
            MaxAnswerTokens = 8,
            ConversationsPerChunk = 2,
            EvalShards = 1,
            Seed = seed,
        },
        Training = new TrainingBudget { Steps = steps, BatchSize = 4, LearningRate = 2e-2, CheckpointEvery = checkpointEvery, Seed = 3 },
    };

    /// <summary>Polls a cartridge until it is Serving (or Failed → throws), returning every distinct state seen in order.</summary>
    public static async Task<List<CartridgeState>> WaitForServingAsync(ICartridgeGrain grain, TimeSpan timeout, Action<CartridgeStatus>? onStatus = null)
    {
        var seen = new List<CartridgeState>();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = await grain.GetStatusAsync();
            onStatus?.Invoke(status);
            if (seen.Count == 0 || seen[^1] != status.State) seen.Add(status.State);
            if (status.State == CartridgeState.Serving) return seen;
            if (status.State == CartridgeState.Failed) throw new InvalidOperationException($"Cartridge {status.Key} failed: {status.Error}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Cartridge {status.Key} is still {status.State} ({status.Detail}) after {timeout}.");
            await Task.Delay(40);
        }
    }

    /// <summary>Text shipped under tests/data.</summary>
    public static string Corpus(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "tests", "data"))) dir = dir.Parent;
        return File.ReadAllText(Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("tests/data not found"), "tests", "data", name));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
