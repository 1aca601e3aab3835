// Blob references of the Postgres profile: every payload of the Orleans grain storage table (all grain types and
// service ids, so a cluster sharing the database with another never loses the other's blobs).
using Npgsql;

namespace Cartridges.Storage.Collection;

/// <summary>Reads the blob hashes named by the grain states stored in PostgreSQL.</summary>
public sealed class PostgresGrainStateReferences(string connectionString) : IBlobReferenceSource
{
    /// <inheritdoc />
    public async Task<IReadOnlySet<string>> ReferencedBlobsAsync(CancellationToken ct = default)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var cmd = source.CreateCommand("SELECT PayloadBinary FROM OrleansStorage WHERE PayloadBinary IS NOT NULL");
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            BlobHashScanner.Scan(reader.GetFieldValue<byte[]>(0), found);
        }
        return found;
    }
}
