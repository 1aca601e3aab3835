// Grain states name blobs by their lowercase hex SHA-256 (CartridgeRecord: corpus, shards, checkpoint files, tensors),
// and both serializers in use (JSON by default, Orleans' binary one if configured) write strings as UTF-8. Scanning the
// raw payload for 64-character hex runs therefore finds every reference without knowing each grain's state type, and
// it errs only towards keeping a blob (a hex run that is not a blob name costs nothing).
namespace Cartridges.Storage.Collection;

/// <summary>Finds blob hashes (runs of exactly 64 lowercase hex characters) in serialized bytes.</summary>
public static class BlobHashScanner
{
    /// <summary>Adds every 64-character lowercase hex run of <paramref name="payload"/> to <paramref name="found"/>.</summary>
    public static void Scan(ReadOnlySpan<byte> payload, ISet<string> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        var run = 0;
        for (var i = 0; i <= payload.Length; i++)
        {
            if (i < payload.Length && IsLowerHex(payload[i]))
            {
                run++;
                continue;
            }

            if (run == 64)
            {
                found.Add(System.Text.Encoding.ASCII.GetString(payload.Slice(i - 64, 64)));
            }

            run = 0;
        }
    }

    static bool IsLowerHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f');
}
