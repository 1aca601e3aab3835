// FileGrainStorage on its own: round trips, ETag conflicts, clear tombstones, and grain keys that look like paths.
using System.Text.Json;
using Cartridges.Storage.GrainStorage;
using Cartridges.Storage.Tests.Support;
using Orleans.Runtime;
using Orleans.Storage;

namespace Cartridges.Storage.Tests.GrainStorage;

public sealed class FileGrainStorageTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"cartridges-grainstate-{Guid.NewGuid():N}");
    private readonly FileGrainStorage _storage;

    public FileGrainStorageTests() => _storage = new FileGrainStorage(_dir, new SystemTextJsonSerializer());

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Read_NothingStored_GivesFreshStateWithoutETag()
    {
        var state = await ReadAsync("counter", Id("a"));

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(0, state.State!.Count);
    }

    [Fact]
    public async Task WriteThenRead_RoundTripsWithVersionETag()
    {
        var state = new GrainState<Counter>(new Counter { Count = 7, Name = "seven" });

        await _storage.WriteStateAsync("counter", Id("a"), state);
        Assert.Equal("1", state.ETag);
        await _storage.WriteStateAsync("counter", Id("a"), state);
        Assert.Equal("2", state.ETag);

        var read = await ReadAsync("counter", Id("a"));
        Assert.True(read.RecordExists);
        Assert.Equal("2", read.ETag);
        Assert.Equal(7, read.State!.Count);
        Assert.Equal("seven", read.State!.Name);
    }

    [Fact]
    public async Task Write_StaleETag_ThrowsInconsistentState()
    {
        var first = new GrainState<Counter>(new Counter { Count = 1 });
        await _storage.WriteStateAsync("counter", Id("a"), first);
        var stale = new GrainState<Counter>(new Counter { Count = 2 }) { ETag = first.ETag };
        await _storage.WriteStateAsync("counter", Id("a"), first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("counter", Id("a"), stale));
        var noETag = new GrainState<Counter>(new Counter { Count = 3 });
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("counter", Id("a"), noETag));
        Assert.Equal(1, (await ReadAsync("counter", Id("a"))).State!.Count);
    }

    [Fact]
    public async Task Write_ETagButNothingStored_ThrowsInconsistentState()
    {
        var state = new GrainState<Counter>(new Counter()) { ETag = "4" };

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("counter", Id("a"), state));
    }

    [Fact]
    public async Task Clear_KeepsCountingVersions_SoPreClearWritersConflict()
    {
        var state = new GrainState<Counter>(new Counter { Count = 5 });
        await _storage.WriteStateAsync("counter", Id("a"), state);
        var before = state.ETag;

        await _storage.ClearStateAsync("counter", Id("a"), state);

        Assert.False(state.RecordExists);
        Assert.Equal("2", state.ETag);
        var read = await ReadAsync("counter", Id("a"));
        Assert.False(read.RecordExists);
        Assert.Equal("2", read.ETag);
        Assert.Equal(0, read.State!.Count);
        var stale = new GrainState<Counter>(new Counter()) { ETag = before };
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("counter", Id("a"), stale));
        read.State!.Count = 9;
        await _storage.WriteStateAsync("counter", Id("a"), read);
        Assert.Equal(9, (await ReadAsync("counter", Id("a"))).State!.Count);
    }

    [Fact]
    public async Task Clear_StaleETag_ThrowsInconsistentState()
    {
        var state = new GrainState<Counter>(new Counter { Count = 5 });
        await _storage.WriteStateAsync("counter", Id("a"), state);
        var stale = new GrainState<Counter>(new Counter()) { ETag = "7" };

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("counter", Id("a"), stale));
    }

    [Theory]
    [InlineData("tenant/name")]
    [InlineData("../x")]
    [InlineData("../../etc/passwd")]
    [InlineData("/absolute")]
    [InlineData("with\0nul")]
    [InlineData("C:\\windows")]
    [InlineData("ünïcödé ∑ 名前")]
    public async Task OddGrainKeys_StayInsideTheDirectoryAndRoundTrip(string key)
    {
        var state = new GrainState<Counter>(new Counter { Count = 42, Name = key });

        await _storage.WriteStateAsync("counter", Id(key), state);

        var read = await ReadAsync("counter", Id(key));
        Assert.Equal(key, read.State!.Name);
        var files = Directory.GetFiles(_dir, "*", SearchOption.AllDirectories);
        var file = Assert.Single(files);
        Assert.Equal(_dir, Path.GetDirectoryName(file));
    }

    [Fact]
    public async Task KeysThatEscapeAlike_StayDistinct()
    {
        await _storage.WriteStateAsync("counter", Id("a/b"), new GrainState<Counter>(new Counter { Count = 1 }));
        await _storage.WriteStateAsync("counter", Id("a_b"), new GrainState<Counter>(new Counter { Count = 2 }));
        await _storage.WriteStateAsync("other", Id("a/b"), new GrainState<Counter>(new Counter { Count = 3 }));

        Assert.Equal(1, (await ReadAsync("counter", Id("a/b"))).State!.Count);
        Assert.Equal(2, (await ReadAsync("counter", Id("a_b"))).State!.Count);
        Assert.Equal(3, (await ReadAsync("other", Id("a/b"))).State!.Count);
    }

    [Fact]
    public async Task VeryLongKey_GetsAValidFileName()
    {
        var key = new string('k', 5000);

        await _storage.WriteStateAsync("counter", Id(key), new GrainState<Counter>(new Counter { Count = 1 }));

        Assert.Equal(1, (await ReadAsync("counter", Id(key))).State!.Count);
    }

    [Fact]
    public async Task Write_LeavesNoTempFiles()
    {
        for (var i = 0; i < 3; i++)
        {
            var state = await ReadAsync("counter", Id("a"));
            state.State!.Count = i;
            await _storage.WriteStateAsync("counter", Id("a"), state);
        }

        Assert.Single(Directory.GetFiles(_dir));
    }

    private static GrainId Id(string key) => GrainId.Create("test", key);

    private async Task<GrainState<Counter>> ReadAsync(string stateName, GrainId id)
    {
        var state = new GrainState<Counter>();
        await _storage.ReadStateAsync(stateName, id, state);
        return state;
    }

    public sealed class Counter
    {
        public int Count { get; set; }

        public string? Name { get; set; }
    }
}
