using System.Text;
using Cartridges.Model.Hub;

namespace Cartridges.Model.Tests.Hub;

public sealed class BlobChecksumTests
{
    // `printf 'hello\n' | git hash-object --stdin` and `printf 'hello\n' | sha256sum`.
    const string GitSha1 = "ce013625030ba8dba906f756967f9e9ca394464a";
    const string Sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    [Theory]
    [InlineData(GitSha1)]
    [InlineData(Sha256)]
    [InlineData("not-a-hash-etag")]
    public void FindMismatch_MatchingOrUnknownEtag_ReturnsNull(string etag)
    {
        using var home = new TempHfHome();
        var path = Path.Combine(home.Path, "f");
        File.WriteAllText(path, "hello\n", Encoding.ASCII);

        Assert.Null(BlobChecksum.FindMismatch(path, etag));
    }

    [Theory]
    [InlineData(GitSha1)]
    [InlineData(Sha256)]
    public void FindMismatch_DifferentContent_ReturnsActualHash(string etag)
    {
        using var home = new TempHfHome();
        var path = Path.Combine(home.Path, "f");
        File.WriteAllText(path, "hellO\n", Encoding.ASCII);

        var actual = BlobChecksum.FindMismatch(path, etag);

        Assert.NotNull(actual);
        Assert.Equal(etag.Length, actual.Length);
    }
}
