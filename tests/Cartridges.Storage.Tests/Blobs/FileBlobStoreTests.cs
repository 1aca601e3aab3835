// The blob contract on the file system, plus its file layout.
using Cartridges.Storage.Blobs;

namespace Cartridges.Storage.Tests.Blobs;

public sealed class FileBlobStoreTests : BlobStoreContractTests
{
    private FileBlobStore FileStore => (FileBlobStore)Store;

    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new FileBlobStore(Path.Combine(WorkDir, "blobs")));

    protected override async Task CorruptAsync(string sha256)
    {
        var path = FileStore.PathOf(sha256);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
    }

    protected override Task AgeAsync(string sha256, TimeSpan age)
    {
        File.SetLastWriteTimeUtc(FileStore.PathOf(sha256), DateTime.UtcNow - age);
        return Task.CompletedTask;
    }

    protected override Task<int> CountCopiesAsync(string sha256) =>
        Task.FromResult(Directory.GetFiles(FileStore.Root, sha256, SearchOption.AllDirectories).Length);

    [Fact]
    public async Task Put_FansOutByHashPrefix_AndLeavesNoTempFiles()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(10)));

        var expected = Path.Combine(FileStore.Root, blob.Sha256[..2], blob.Sha256[2..4], blob.Sha256);
        Assert.True(File.Exists(expected));
        Assert.Empty(Directory.GetFiles(Path.Combine(FileStore.Root, "tmp")));
    }

    [Fact]
    public async Task Put_ReplacesTruncatedLeftover()
    {
        var data = RandomBytes(1000);
        var blob = await Store.PutAsync(new MemoryStream(data));
        await File.WriteAllBytesAsync(FileStore.PathOf(blob.Sha256), data[..10]);

        await Store.PutAsync(new MemoryStream(data));

        Assert.Equal(data, await Store.ReadAllAsync(blob.Sha256));
    }
}
