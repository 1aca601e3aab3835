// Hash validation and hashing helpers shared by the blob stores.
using System.Security.Cryptography;

namespace Cartridges.Storage.Blobs;

internal static class BlobHash
{
    public const int HexLength = 64;

    /// <summary>Rejects anything but 64 lowercase hex digits, so a hash can never become a path or SQL surprise.</summary>
    public static void Validate(string sha256, string paramName = "sha256")
    {
        ArgumentNullException.ThrowIfNull(sha256, paramName);
        if (sha256.Length != HexLength || !sha256.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
        {
            throw new ArgumentException(
                $"'{Truncate(sha256)}' is not a SHA-256 hash (expected 64 lowercase hex digits).", paramName);
        }
    }

    public static string ToHex(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash);

    public static string Of(ReadOnlySpan<byte> data) => ToHex(SHA256.HashData(data));

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
