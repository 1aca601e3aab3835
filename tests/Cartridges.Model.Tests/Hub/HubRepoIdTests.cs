using Cartridges.Model.Hub;

namespace Cartridges.Model.Tests.Hub;

public sealed class HubRepoIdTests
{
    [Theory]
    [InlineData("Qwen/Qwen3-0.6B", "Qwen", "Qwen3-0.6B", "main")]
    [InlineData("meta-llama/Llama-3.2-1B-Instruct@v1.0", "meta-llama", "Llama-3.2-1B-Instruct", "v1.0")]
    [InlineData("acme/tiny_model@refs/pr/1", "acme", "tiny_model", "refs/pr/1")]
    [InlineData("acme/tiny@c0ffee0123456789abcdef0123456789abcdef01", "acme", "tiny", "c0ffee0123456789abcdef0123456789abcdef01")]
    public void Parse_ValidId_SplitsOwnerNameRevision(string id, string owner, string name, string revision)
    {
        var repo = HubRepoId.Parse(id);

        Assert.Equal(new HubRepoId(owner, name, revision), repo);
        Assert.Equal($"models--{owner}--{name}", repo.CacheFolderName);
    }

    [Fact]
    public void RevisionIsCommit_OnlyForFullHash()
    {
        Assert.True(HubRepoId.Parse("a/b@c0ffee0123456789abcdef0123456789abcdef01").RevisionIsCommit);
        Assert.False(HubRepoId.Parse("a/b@c0ffee").RevisionIsCommit);
        Assert.False(HubRepoId.Parse("a/b").RevisionIsCommit);
    }

    [Theory]
    [InlineData("acme/tiny@refs//pr")]
    [InlineData("acme/tiny@/main")]
    [InlineData("acme/tiny@main/")]
    [InlineData("acme/tiny@ma..in")]
    [InlineData(".acme/tiny")]
    [InlineData("acme/tiny-")]
    public void Parse_PathLikeParts_Throws(string id)
    {
        var e = Assert.Throws<ArgumentException>(() => HubRepoId.Parse(id));

        Assert.Contains(id, e.Message);
    }
}
