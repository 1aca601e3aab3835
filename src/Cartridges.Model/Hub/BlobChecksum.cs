// Checks a downloaded blob against the hub's etag. The hub's etags are content hashes: sha256 of the
// bytes for LFS files (X-Linked-Etag), git's blob sha1 for files stored in git (ETag). Verifying the
// whole file after download, rather than hashing on the fly, also covers bytes written by an earlier,
// interrupted run that this one resumed.
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Cartridges.Model.Hub;

/// <summary>Verifies file contents against sha256 or git-sha1 etags.</summary>
static partial class BlobChecksum
{
    /// <summary>The actual hash when it differs from the etag; null when it matches or the etag is not a known hash.</summary>
    public static string? FindMismatch(string path, string etag)
    {
        string actual;
        if (Sha256().IsMatch(etag))
        {
            using var stream = File.OpenRead(path);
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        else if (Sha1().IsMatch(etag))
            actual = GitBlobSha1(path);
        else
            return null;
        return string.Equals(actual, etag, StringComparison.OrdinalIgnoreCase) ? null : actual;
    }

    /// <summary>git hash-object: sha1("blob {length}\0" + content).</summary>
    public static string GitBlobSha1(string path)
    {
        using var stream = File.OpenRead(path);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
            sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    /// <summary>Describes the kind of hash an etag is, for error messages.</summary>
    public static string Kind(string etag) =>
        Sha256().IsMatch(etag) ? "sha256" : Sha1().IsMatch(etag) ? "git blob sha1" : "etag";

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256();

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex Sha1();
}
