using Cartridges.Abstractions;
using Cartridges.Cluster.Tests.Support;
using Cartridges.Grains.Cartridge;
using Cartridges.Grains.Hosting;
using Cartridges.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Cartridges.Cluster.Tests.Durability;

/// <summary>An embedded (in-process) silo that goes away mid-training, as a CLI command does when it exits.</summary>
public sealed class EmbeddedRestartTests
{
    [Theory]
    [InlineData(CartridgeState.Generating)]
    [InlineData(CartridgeState.Training)]
    public async Task SiloDisposedMidWork_LeavesTheCartridgeResumable_AndTheNextSiloFinishesIt(CartridgeState stopIn)
    {
        var data = Directory.CreateTempSubdirectory("cartridges-embedded-restart-").FullName;
        try
        {
            var tiny = ClusterHarness.TinySpec(ClusterHarness.Corpus("lighthouse-chronicle.txt")[..3000], steps: 24, checkpointEvery: 2);
            // Many small shards, so the silo can go away between two of them.
            var spec = tiny with { Synthesis = tiny.Synthesis with { Conversations = 24, ConversationsPerShard = 2 } };
            await using (var first = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu"))
            {
                var grain = first.Grains.GetGrain<ICartridgeGrain>("local/resume");
                await grain.CreateAsync(spec);
                await grain.StartAsync();
                var deadline = DateTime.UtcNow.AddMinutes(3);
                CartridgeStatus s;
                // Step 4, not 2: the step-2 checkpoint is uploaded while later steps train, so by step 4 it is stored
                // (stopping right after step 2 may legitimately lose it, and the run would resume from 0).
                while ((s = await grain.GetStatusAsync()) is not ({ State: CartridgeState.Training, Step: >= 4 } or { State: CartridgeState.Generating, ShardsDone: >= 2 })
                       || s.State != stopIn)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"still {s.State} at step {s.Step}");
                    Assert.NotEqual(CartridgeState.Failed, s.State);
                    await Task.Delay(20);
                }
            } // the silo stops while the cartridge generates or trains

            await using var second = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu");
            var again = second.Grains.GetGrain<ICartridgeGrain>("local/resume");
            var after = await again.GetStatusAsync();
            Assert.True(after.State is CartridgeState.Generating or CartridgeState.Training or CartridgeState.Serving, $"{after.State}: {after.Error}");
            Assert.Null(after.Error);
            await ClusterHarness.WaitForServingAsync(again, TimeSpan.FromMinutes(3));
            var served = await again.GetStatusAsync();
            Assert.Equal(24, served.Step);
            if (stopIn == CartridgeState.Training) Assert.True(served.ResumedFromStep >= 2, $"resumed from step {served.ResumedFromStep}");
            Assert.Equal(served.ShardsTotal, served.ShardsDone);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task LocalProfile_ResumesInterruptedTraining_AfterARestart_WithoutAnyRequest()
    {
        var data = Directory.CreateTempSubdirectory("cartridges-local-reminder-").FullName;
        // Short reminder periods, so the restarted silo's reminder fires within seconds instead of a minute.
        var settings = new Dictionary<string, string?>
        {
            ["Cartridges:MinimumReminderPeriod"] = "00:00:01",
            ["Cartridges:ResumeReminderPeriod"] = "00:00:02",
        };
        try
        {
            var tiny = ClusterHarness.TinySpec(ClusterHarness.Corpus("lighthouse-chronicle.txt")[..3000], steps: 24, checkpointEvery: 2);
            var spec = tiny with { Synthesis = tiny.Synthesis with { Conversations = 24, ConversationsPerShard = 2 } };
            await using (var first = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu", settings))
            {
                var grain = first.Grains.GetGrain<ICartridgeGrain>("local/unattended");
                await grain.CreateAsync(spec);
                await grain.StartAsync();
                var deadline = DateTime.UtcNow.AddMinutes(3);
                CartridgeStatus s;
                while ((s = await grain.GetStatusAsync()) is not { State: CartridgeState.Training, Step: >= 2 })
                {
                    Assert.True(DateTime.UtcNow < deadline, $"still {s.State} at step {s.Step}");
                    Assert.NotEqual(CartridgeState.Failed, s.State);
                    await Task.Delay(20);
                }
            } // the silo goes away mid-training

            await using var second = await EmbeddedSilo.StartAsync(ClusterHarness.ModelDirectory, data, "tiny", "cpu", settings);
            // Nothing calls the cartridge: its durable state is read straight from the storage provider, which does
            // not activate the grain. Only the reminder table kept on disk can bring it back and finish the run.
            var id = second.Grains.GetGrain<ICartridgeGrain>("local/unattended").GetGrainId();
            var storage = second.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Cartridges);
            var until = DateTime.UtcNow.AddMinutes(3);
            var state = new GrainState<CartridgeRecord>();
            while (true)
            {
                await storage.ReadStateAsync("cartridge", id, state);
                if (state.State?.State == CartridgeState.Serving) break;
                Assert.NotEqual(CartridgeState.Failed, state.State?.State);
                Assert.True(DateTime.UtcNow < until, $"no resume without a request: still {state.State?.State} at step {state.State?.Step}");
                await Task.Delay(100);
            }
            Assert.True(File.Exists(Path.Combine(data, "reminders.json")));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
