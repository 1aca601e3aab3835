// The etag is what the real hub sends: sha256 of the bytes for LFS files, git's blob sha1 otherwise.
using System.Security.Cryptography;
using System.Text;

namespace Cartridges.Model.Tests.Hub;

/// <summary>One file of the fake repo; LFS files are served through the CDN redirect.</summary>
sealed record FakeHubFile(byte[] Content, bool Lfs)
{
    public string Etag => Lfs
        ? Convert.ToHexStringLower(SHA256.HashData(Content))
        : Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {Content.Length}\0"), .. Content]));
}
