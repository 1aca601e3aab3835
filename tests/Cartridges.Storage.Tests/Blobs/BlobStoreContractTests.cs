// The IBlobStore contract, run against each implementation (FileBlobStore, PostgresBlobStore).
using System.Security.Cryptography;
using Cartridges.Storage.Blobs;
using Cartridges.Storage.Collection;

namespace Cartridges.Storage.Tests.Blobs;

public abstract class BlobStoreContractTests : IAsyncLifetime
{
    protected string WorkDir { get; } = Path.Combine(Path.GetTempPath(), $"cartridges-blobtest-{Guid.NewGuid():N}");

    protected IBlobStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(WorkDir);
        Store = await CreateStoreAsync();
    }

    public virtual Task DisposeAsync()
    {
        (Store as IDisposable)?.Dispose();
        Directory.Delete(WorkDir, recursive: true);
        return Task.CompletedTask;
    }

    protected abstract Task<IBlobStore> CreateStoreAsync();

    /// <summary>Changes one stored byte of the blob behind the store's back.</summary>
    protected abstract Task CorruptAsync(string sha256);

    /// <summary>Makes the blob look stored <paramref name="age"/> ago.</summary>
    protected abstract Task AgeAsync(string sha256, TimeSpan age);

    /// <summary>How many copies of the blob's bytes the store holds.</summary>
    protected abstract Task<int> CountCopiesAsync(string sha256);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(9 * 1024 * 1024 + 17)] // over two 4 MiB chunks
    public async Task PutThenRead_RoundTrips(int length)
    {
        var data = RandomBytes(length);

        var blob = await Store.PutAsync(new MemoryStream(data));

        Assert.Equal(new BlobRef(Hex(data), length), blob);
        Assert.True(await Store.ExistsAsync(blob.Sha256));
        Assert.Equal(data, await Store.ReadAllAsync(blob.Sha256));
        var file = Path.Combine(WorkDir, "out.bin");
        await Store.ReadToFileAsync(blob.Sha256, file);
        Assert.Equal(data, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task Put_NonSeekableStream_RoundTrips()
    {
        var data = RandomBytes(300_000);

        var blob = await Store.PutAsync(new NonSeekableStream(data));

        Assert.Equal(Hex(data), blob.Sha256);
        Assert.Equal(data, await Store.ReadAllAsync(blob.Sha256));
    }

    [Fact]
    public async Task PutFile_RoundTrips()
    {
        var data = RandomBytes(50_000);
        var source = Path.Combine(WorkDir, "in.bin");
        await File.WriteAllBytesAsync(source, data);

        var blob = await Store.PutFileAsync(source);

        Assert.Equal(new BlobRef(Hex(data), data.Length), blob);
        Assert.Equal(data, await Store.ReadAllAsync(blob.Sha256));
    }

    [Fact]
    public async Task Put_SameBytesTwice_SameRefStoredOnce()
    {
        var data = RandomBytes(10_000);

        var first = await Store.PutAsync(new MemoryStream(data));
        var second = await Store.PutAsync(new MemoryStream(data));

        Assert.Equal(first, second);
        Assert.Equal(1, await CountCopiesAsync(first.Sha256));
    }

    [Fact]
    public async Task Verify_PassesIntactBlobs_AndNamesCorruptOrMissingOnes()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(300_000)));
        await Store.VerifyAsync(blob.Sha256);

        await CorruptAsync(blob.Sha256);
        var corrupt = await Assert.ThrowsAsync<BlobCorruptException>(() => Store.VerifyAsync(blob.Sha256));
        Assert.Equal(blob.Sha256, corrupt.Sha256);

        var missing = await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.VerifyAsync(new string('e', 64)));
        Assert.Equal(new string('e', 64), missing.Sha256);
    }

    [Fact]
    public async Task List_GivesEveryBlobWithItsLengthAndTime()
    {
        var a = await Store.PutAsync(new MemoryStream(RandomBytes(10)));
        var b = await Store.PutAsync(new MemoryStream(RandomBytes(70_000)));
        await AgeAsync(b.Sha256, TimeSpan.FromHours(3));

        var listed = new List<StoredBlob>();
        await foreach (var blob in Store.ListAsync()) listed.Add(blob);

        Assert.Equal(new[] { a.Sha256, b.Sha256 }.Order(), listed.Select(x => x.Sha256).Order());
        Assert.Equal(70_000, listed.Single(x => x.Sha256 == b.Sha256).Length);
        Assert.InRange(DateTimeOffset.UtcNow - listed.Single(x => x.Sha256 == a.Sha256).Stored, TimeSpan.FromMinutes(-1), TimeSpan.FromMinutes(5));
        Assert.InRange(DateTimeOffset.UtcNow - listed.Single(x => x.Sha256 == b.Sha256).Stored, TimeSpan.FromHours(2.9), TimeSpan.FromHours(3.1));
    }

    [Fact]
    public async Task DeleteIfStoredBefore_SparesYoungBlobs_AndAPutAgainMakesAnOldOneYoung()
    {
        var bytes = RandomBytes(1000);
        var blob = await Store.PutAsync(new MemoryStream(bytes));
        var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromHours(1);
        Assert.False(await Store.DeleteIfStoredBeforeAsync(blob.Sha256, cutoff));

        await AgeAsync(blob.Sha256, TimeSpan.FromHours(2));
        await Store.PutAsync(new MemoryStream(bytes)); // someone stores the same bytes again: in use once more
        Assert.False(await Store.DeleteIfStoredBeforeAsync(blob.Sha256, cutoff));

        await AgeAsync(blob.Sha256, TimeSpan.FromHours(2));
        Assert.True(await Store.DeleteIfStoredBeforeAsync(blob.Sha256, cutoff));
        Assert.False(await Store.ExistsAsync(blob.Sha256));
    }

    [Fact]
    public async Task Collector_DeletesOnlyOldUnreferencedBlobs()
    {
        var kept = await Store.PutAsync(new MemoryStream(RandomBytes(100)));
        var young = await Store.PutAsync(new MemoryStream(RandomBytes(200)));
        var garbage = await Store.PutAsync(new MemoryStream(RandomBytes(300)));
        await AgeAsync(kept.Sha256, TimeSpan.FromDays(3));
        await AgeAsync(garbage.Sha256, TimeSpan.FromDays(3));
        var references = new FixedReferences(kept.Sha256);

        var dry = await BlobCollector.CollectAsync(Store, references, TimeSpan.FromHours(1), dryRun: true);
        Assert.Equal((3, 1, 1, 1, 300L), (dry.Stored, dry.Referenced, dry.Young, dry.Deleted, dry.DeletedBytes));
        Assert.True(await Store.ExistsAsync(garbage.Sha256));

        var report = await BlobCollector.CollectAsync(Store, references, TimeSpan.FromHours(1));
        Assert.Equal(1, report.Deleted);
        Assert.True(await Store.ExistsAsync(kept.Sha256));
        Assert.True(await Store.ExistsAsync(young.Sha256));
        Assert.False(await Store.ExistsAsync(garbage.Sha256));
    }

    /// <summary>A fixed reference set: what the store does with references is the point here, not where they come from.</summary>
    private sealed class FixedReferences(params string[] hashes) : IBlobReferenceSource
    {
        public Task<IReadOnlySet<string>> ReferencedBlobsAsync(CancellationToken ct = default) =>
            Task.FromResult<IReadOnlySet<string>>(hashes.ToHashSet());
    }

    [Fact]
    public async Task Put_OverACorruptCopy_RepairsIt()
    {
        var bytes = RandomBytes(20_000);
        var blob = await Store.PutAsync(new MemoryStream(bytes));
        await CorruptAsync(blob.Sha256);

        var again = await Store.PutAsync(new MemoryStream(bytes));

        Assert.Equal(blob, again);
        await Store.VerifyAsync(blob.Sha256);
        Assert.Equal(bytes, await Store.ReadAllAsync(blob.Sha256));
    }

    [Fact]
    public async Task Read_CorruptedBytes_ThrowsBlobCorrupt()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(5000)));
        await CorruptAsync(blob.Sha256);

        var e = await Assert.ThrowsAsync<BlobCorruptException>(() => Store.ReadAllAsync(blob.Sha256));

        Assert.Equal(blob.Sha256, e.Sha256);
        Assert.Contains(blob.Sha256, e.Message);
    }

    [Fact]
    public async Task ReadToFile_Corrupted_LeavesNoPartialFile()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(5000)));
        await CorruptAsync(blob.Sha256);
        var outDir = Path.Combine(WorkDir, "out");
        Directory.CreateDirectory(outDir);
        var target = Path.Combine(outDir, "blob.bin");

        await Assert.ThrowsAsync<BlobCorruptException>(() => Store.ReadToFileAsync(blob.Sha256, target));

        Assert.Empty(Directory.GetFileSystemEntries(outDir));
    }

    [Fact]
    public async Task ReadToFile_Corrupted_KeepsThePreviousFile()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(5000)));
        await CorruptAsync(blob.Sha256);
        var target = Path.Combine(WorkDir, "previous.bin");
        await File.WriteAllTextAsync(target, "previous");

        await Assert.ThrowsAsync<BlobCorruptException>(() => Store.ReadToFileAsync(blob.Sha256, target));

        Assert.Equal("previous", await File.ReadAllTextAsync(target));
    }

    [Fact]
    public async Task Read_Missing_ThrowsBlobNotFound()
    {
        var missing = Hex(RandomBytes(8));

        var e = await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.ReadAllAsync(missing));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.ReadToFileAsync(missing, Path.Combine(WorkDir, "x")));

        Assert.Equal(missing, e.Sha256);
        Assert.Contains(missing, e.Message);
        Assert.False(await Store.ExistsAsync(missing));
        Assert.False(File.Exists(Path.Combine(WorkDir, "x")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")] // uppercase
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g")]
    public async Task MalformedHash_ThrowsArgumentException(string hash)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Store.ReadAllAsync(hash));
        Assert.Contains("SHA-256", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ExistsAsync(hash));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(hash));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ReadToFileAsync(hash, Path.Combine(WorkDir, "y")));
    }

    [Fact]
    public async Task Delete_RemovesOnce()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(100)));

        Assert.True(await Store.DeleteAsync(blob.Sha256));
        Assert.False(await Store.DeleteAsync(blob.Sha256));
        Assert.False(await Store.ExistsAsync(blob.Sha256));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.ReadAllAsync(blob.Sha256));
    }

    [Fact]
    public async Task ConcurrentPuts_OfSameBytes_AllSucceed()
    {
        var data = RandomBytes(200_000);

        var refs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Store.PutAsync(new MemoryStream(data)))));

        Assert.Single(refs.Distinct());
        Assert.Equal(data, await Store.ReadAllAsync(refs[0].Sha256));
    }

    protected static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        return data;
    }

    protected static string Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }
    }
}
