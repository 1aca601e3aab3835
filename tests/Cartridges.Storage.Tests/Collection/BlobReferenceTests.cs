// Where collection learns which blobs are in use: the hash scanner and both grain-state sources.
using System.Text;
using Cartridges.Storage.Collection;
using Cartridges.Storage.Database;
using Cartridges.Storage.GrainStorage;
using Cartridges.Storage.Tests.Support;
using Orleans.Runtime;
using Orleans.Storage;

namespace Cartridges.Storage.Tests.Collection;

public sealed class BlobReferenceTests
{
    private static readonly string A = new string('a', 63) + "1";
    private static readonly string B = string.Concat(Enumerable.Repeat("0123456789abcdef", 4));

    [Fact]
    public void Scanner_FindsExactly64CharacterLowercaseHexRuns()
    {
        var found = new HashSet<string>();
        var text = $"{{\"CorpusBlob\":\"{A}\",\"Shards\":{{\"0\":\"{B}\"}},\"x\":\"{new string('b', 63)}\",\"y\":\"{new string('c', 65)}\",\"z\":\"{A.ToUpperInvariant()}\"}}";

        BlobHashScanner.Scan(Encoding.UTF8.GetBytes(text), found);

        Assert.Equal(new[] { A, B }.Order(), found.Order());
    }

    [Fact]
    public async Task Directory_ReadsTheHashesOfEveryStoredState()
    {
        var dir = Directory.CreateTempSubdirectory("cartridges-refs-").FullName;
        try
        {
            var storage = new FileGrainStorage(dir, new SystemTextJsonSerializer());
            await storage.WriteStateAsync("cartridge", GrainId.Create("cartridge", "t/a"), new GrainState<Names>(new Names { Blobs = [A] }));
            await storage.WriteStateAsync("cartridge", GrainId.Create("cartridge", "t/b"), new GrainState<Names>(new Names { Blobs = [B] }));

            var found = await new GrainStateDirectoryReferences(dir).ReferencedBlobsAsync();

            Assert.Equal(new[] { A, B }.Order(), found.Order());
            Assert.Empty(await new GrainStateDirectoryReferences(Path.Combine(dir, "absent")).ReferencedBlobsAsync());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Postgres_ReadsTheHashesOfEveryStoredStatePayload()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("refs");
        await SchemaMigrator.MigrateAsync(cs);
        var n = 0;
        foreach (var payload in new[] { $"{{\"CartridgeBlob\":\"{A}\"}}", $"{{\"Files\":{{\"state\":\"{B}\"}}}}" })
        {
            await Sql.ExecuteAsync(cs,
                "INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, Version) " +
                "VALUES (1, @n, 0, 2, 'cartridge', 't/x', 'svc', @p, 1)",
                ("n", (long)n++), ("p", Encoding.UTF8.GetBytes(payload)));
        }
        // A cleared state (NULL payload) names nothing.
        await Sql.ExecuteAsync(cs,
            "INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, Version) " +
            "VALUES (1, 99, 0, 2, 'cartridge', 't/y', 'svc', NULL, 2)");

        var found = await new PostgresGrainStateReferences(cs).ReferencedBlobsAsync();

        Assert.Equal(new[] { A, B }.Order(), found.Order());
    }

    public sealed class Names
    {
        public List<string> Blobs { get; set; } = [];
    }
}
