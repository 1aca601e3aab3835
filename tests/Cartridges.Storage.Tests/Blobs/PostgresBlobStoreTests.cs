// The blob contract on PostgreSQL (chunked bytea), plus its chunking.
using Cartridges.Storage.Blobs;
using Cartridges.Storage.Database;
using Cartridges.Storage.Tests.Support;

namespace Cartridges.Storage.Tests.Blobs;

public sealed class PostgresBlobStoreTests : BlobStoreContractTests
{
    private string _cs = "";

    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        _cs = await PostgresServer.CreateDatabaseAsync("blobs");
        await SchemaMigrator.MigrateAsync(_cs);
        return new PostgresBlobStore(_cs);
    }

    protected override Task CorruptAsync(string sha256) =>
        Sql.ExecuteAsync(_cs,
            "UPDATE cartridges_blob_chunks SET data = set_byte(data, 0, (get_byte(data, 0) + 1) % 256) WHERE sha256 = @h AND idx = 0",
            ("h", sha256));

    protected override Task AgeAsync(string sha256, TimeSpan age) =>
        Sql.ExecuteAsync(_cs, "UPDATE cartridges_blobs SET created = now() - make_interval(secs => @s) WHERE sha256 = @h", ("s", age.TotalSeconds), ("h", sha256));

    protected override async Task<int> CountCopiesAsync(string sha256) =>
        (int)await Sql.ScalarAsync<long>(_cs, "SELECT count(*) FROM cartridges_blobs WHERE sha256 = @h", ("h", sha256));

    [Fact]
    public async Task Put_LargeBlob_IsSplitIntoChunks()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(9 * 1024 * 1024)));

        var chunks = await Sql.ScalarAsync<long>(_cs, "SELECT count(*) FROM cartridges_blob_chunks WHERE sha256 = @h", ("h", blob.Sha256));
        Assert.Equal(3, chunks);
        Assert.Equal(blob.Length, await Sql.ScalarAsync<long>(_cs, "SELECT length FROM cartridges_blobs WHERE sha256 = @h", ("h", blob.Sha256)));
    }

    [Fact]
    public async Task Read_MissingChunk_ThrowsBlobCorrupt()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(9 * 1024 * 1024)));
        await Sql.ExecuteAsync(_cs, "DELETE FROM cartridges_blob_chunks WHERE sha256 = @h AND idx = 1", ("h", blob.Sha256));

        await Assert.ThrowsAsync<BlobCorruptException>(() => Store.ReadAllAsync(blob.Sha256));
    }

    [Theory]
    [InlineData("DELETE FROM cartridges_blob_chunks WHERE sha256 = @h AND idx = 2")] // a lost last chunk
    [InlineData("UPDATE cartridges_blob_chunks SET data = set_byte(data, 7, (get_byte(data, 7) + 1) % 256) WHERE sha256 = @h AND idx = 1")]
    [InlineData("UPDATE cartridges_blob_chunks SET data = substring(data from 1 for 100) WHERE sha256 = @h AND idx = 0")]
    public async Task DuplicatePut_OfAMultiChunkBlob_ChecksTheStoredChunksOnTheServer_AndRepairsThem(string damage)
    {
        var bytes = RandomBytes(9 * 1024 * 1024);
        var blob = await Store.PutAsync(new MemoryStream(bytes));
        // An intact copy is kept as it is (chunk rows untouched) …
        var before = await Sql.ScalarAsync<long>(_cs, "SELECT sum(xmin::text::bigint)::bigint FROM cartridges_blob_chunks WHERE sha256 = @h", ("h", blob.Sha256));
        Assert.Equal(blob, await Store.PutAsync(new MemoryStream(bytes)));
        Assert.Equal(before, await Sql.ScalarAsync<long>(_cs, "SELECT sum(xmin::text::bigint)::bigint FROM cartridges_blob_chunks WHERE sha256 = @h", ("h", blob.Sha256)));
        // … a damaged one is rewritten from the new bytes.
        await Sql.ExecuteAsync(_cs, damage, ("h", blob.Sha256));
        await Assert.ThrowsAsync<BlobCorruptException>(() => Store.VerifyAsync(blob.Sha256));
        Assert.Equal(blob, await Store.PutAsync(new MemoryStream(bytes)));
        Assert.Equal(bytes, await Store.ReadAllAsync(blob.Sha256));
    }

    [Fact]
    public async Task Delete_RemovesChunks()
    {
        var blob = await Store.PutAsync(new MemoryStream(RandomBytes(1000)));

        await Store.DeleteAsync(blob.Sha256);

        Assert.Equal(0, await Sql.ScalarAsync<long>(_cs, "SELECT count(*) FROM cartridges_blob_chunks WHERE sha256 = @h", ("h", blob.Sha256)));
    }
}
