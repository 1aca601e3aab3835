using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Storage.Blobs;
using Xunit.Abstractions;

namespace Cartridges.Cluster.Tests.Durability;

/// <summary>Postgres profile: silo crashes and whole-cluster restarts lose nothing.</summary>
public sealed class PostgresDurabilityTests(ITestOutputHelper output)
{
    static readonly string Corpus = ClusterHarness.Corpus("lighthouse-chronicle.txt");

    static async Task<CartridgeStatus> PollAsync(ICartridgeGrain grain, Func<CartridgeStatus, bool> until, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var status = await grain.GetStatusAsync();
                if (status.State == CartridgeState.Failed) throw new InvalidOperationException($"{status.Key} failed: {status.Error}");
                if (until(status)) return status;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{status.Key}: still {status.State} step {status.Step} after {timeout}");
            }
            catch (Exception e) when (e is not (TimeoutException or InvalidOperationException) && DateTime.UtcNow < deadline)
            {
                // Calls to an activation on a silo that just died fail until the cluster declares it dead.
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task KillTrainingSilo_ResumesFromCheckpointElsewhere_KillServingSilo_ReactivatesWithSameAnswer()
    {
        var db = await TestPostgres.CreateDatabaseAsync("kill");
        await using var harness = await ClusterHarness.StartAsync(silos: 3, gpuSilos: "Secondary_1,Secondary_2,Secondary_3", postgres: db);
        var grain = harness.Client.GetGrain<ICartridgeGrain>("acme/crash-test");
        await grain.CreateAsync(ClusterHarness.TinySpec(Corpus, steps: 40, checkpointEvery: 3));
        await grain.StartAsync();

        // Wait until training has checkpointed at least once, then kill the silo doing it.
        var training = await PollAsync(grain, s => s.State == CartridgeState.Training && s.Step >= 5, TimeSpan.FromMinutes(4));
        output.WriteLine($"killing {training.Silo} at step {training.Step}");
        await harness.Cluster.KillSiloAsync(harness.Silo(training.Silo!));

        // Nobody calls the grain now: the resume reminder alone must bring it back. Watch its stored state advance.
        var stepsStored = await StoredStepAsync(db);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await StoredStepAsync(db) <= Math.Max(stepsStored, training.Step) && DateTime.UtcNow < deadline) await Task.Delay(500);
        Assert.True(await StoredStepAsync(db) > training.Step, "training did not resume without a caller");

        var serving = await PollAsync(grain, s => s.State == CartridgeState.Serving, TimeSpan.FromMinutes(4));
        output.WriteLine($"serving on {serving.Silo}: resumed from step {serving.ResumedFromStep}, {serving.Step} steps");
        Assert.NotEqual(training.Silo, serving.Silo);
        Assert.True(serving.ResumedFromStep >= 3, $"training restarted from step {serving.ResumedFromStep} instead of a checkpoint");
        Assert.Equal(0, serving.ResumedFromStep % 3);
        Assert.Equal(40, serving.Step);

        var answer = await grain.AskAsync("Who keeps the log?", new AskOptions { MaxTokens = 10 });

        // Now kill the serving silo: the next question reactivates the cartridge on the remaining accelerator silo,
        // which loads the tensors from the blob store and answers the same.
        // Bring up a fresh accelerator silo, then kill the serving one.
        var fresh = await harness.Cluster.StartAdditionalSiloAsync();
        await harness.Cluster.KillSiloAsync(harness.Silo(serving.Silo!));
        var again = await AskWithRetryAsync(grain, "Who keeps the log?", TimeSpan.FromMinutes(2));
        Assert.Equal(answer.TokenIds, again.TokenIds);
        Assert.Equal(fresh.SiloAddress.ToParsableString(), again.Silo);
        output.WriteLine($"answered again on {again.Silo}");
    }

    // The persisted step of the only cartridge in the database (grain state is JSON in OrleansStorage).
    static async Task<int> StoredStepAsync(string db)
    {
        await using var connection = new Npgsql.NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT convert_from(payloadbinary, 'UTF8') FROM orleansstorage WHERE graintypestring = 'cartridge'", connection);
        var json = (string?)await command.ExecuteScalarAsync();
        if (json is null) return 0;
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("Step", out var step) ? step.GetInt32() : 0;
    }

    static async Task<CartridgeAnswer> AskWithRetryAsync(ICartridgeGrain grain, string question, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await grain.AskAsync(question, new AskOptions { MaxTokens = 10 });
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task StopWholeCluster_NewClusterFindsEveryCartridgeInItsState_TensorsByteIdentical()
    {
        var db = await TestPostgres.CreateDatabaseAsync("restart");
        const string service = "restart-test";
        string blob;
        byte[] tensors;
        CartridgeAnswer answer;
        await using (var first = await ClusterHarness.StartAsync(silos: 2, postgres: db, serviceId: service))
        {
            var trained = first.Client.GetGrain<ICartridgeGrain>("acme/trained");
            await trained.CreateAsync(ClusterHarness.TinySpec(Corpus, steps: 4));
            await trained.StartAsync();
            await ClusterHarness.WaitForServingAsync(trained, TimeSpan.FromMinutes(4));
            await first.Client.GetGrain<ICartridgeGrain>("beta/untrained").CreateAsync(ClusterHarness.TinySpec(Corpus[..4000]));
            blob = await trained.GetServingBlobAsync();
            tensors = await new PostgresBlobStore(db).ReadAllAsync(blob);
            answer = await trained.AskAsync("Where is the lamp?", new AskOptions { MaxTokens = 8 });
        }

        await using var second = await ClusterHarness.StartAsync(silos: 2, postgres: db, serviceId: service);
        var again = second.Client.GetGrain<ICartridgeGrain>("acme/trained");
        var status = await again.GetStatusAsync();
        Assert.Equal(CartridgeState.Serving, status.State);
        Assert.Equal(blob, status.CartridgeBlob);
        Assert.Equal(tensors, await new PostgresBlobStore(db).ReadAllAsync(blob));
        Assert.Equal(CartridgeState.Untrained, (await second.Client.GetGrain<ICartridgeGrain>("beta/untrained").GetStatusAsync()).State);
        Assert.Equal(answer.TokenIds, (await again.AskAsync("Where is the lamp?", new AskOptions { MaxTokens = 8 })).TokenIds);
    }
}
