namespace Cartridges.Deploy.Tests;

/// <summary>The .dockerignore keeps the image builds' context to what they compile, and keeps all of that.</summary>
public sealed class BuildContextTests
{
    const string Cli = "src/Cartridges.Cli/Cartridges.Cli.csproj";

    [Theory]
    [InlineData(".git/HEAD")]
    [InlineData("src/Cartridges.Silo/bin/Release/net10.0/Cartridges.Silo.dll")]
    [InlineData("src/Cartridges.Model/obj/project.assets.json")]
    [InlineData("tests/Cartridges.Deploy.Tests/bin/Release/net10.0/Cartridges.Deploy.Tests.dll")]
    [InlineData("models/records-small/config.json")]
    [InlineData("cartridges-data/grains/state.json")]
    [InlineData(".ci-out/build.log")]
    [InlineData(".gpuwork/run.log")]
    [InlineData(".gpuwork-exp/run/metrics.json")]
    [InlineData("tools/gpu-research/records_mirror.py")]
    [InlineData("TestResults/results.trx")]
    [InlineData("src/Cartridges.Cli/TestResults/results.trx")]
    public void DockerIgnore_LeavesOut(string path) => Assert.True(DockerIgnore.Load().Excludes(path), $"{path} is in the build context");

    [Fact]
    public void DockerIgnore_KeepsEveryFileThePublishReads()
    {
        var ignore = DockerIgnore.Load();
        var needed = new List<string> { "global.json", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" };
        needed.AddRange(RepoFiles.SourceFiles("build"));
        foreach (var project in ProjectGraph.Closure(Cli))
        {
            needed.AddRange(RepoFiles.SourceFiles(Path.GetDirectoryName(project)!));
            var outside = ProjectGraph.OutsideFiles(project).ToList();
            Assert.All(outside, f => Assert.True(File.Exists(Path.Combine(RepoFiles.Root, f)), $"{project} includes {f}, which does not exist"));
            needed.AddRange(outside);
        }
        Assert.Contains("deploy/sql/001-orleans-query.sql", needed);
        Assert.Contains("tests/data/lighthouse-chronicle.txt", needed);
        Assert.All(needed, f => Assert.False(ignore.Excludes(f), $"{f} is needed by the image builds but .dockerignore leaves it out"));

        // The Dockerfiles' own COPY sources too.
        foreach (var name in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            var copied = Dockerfile.Load(name).Instructions
                .Where(i => i.Keyword is "COPY" or "ADD" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
                .SelectMany(i => i.Sources)
                .Where(s => s != ".");
            Assert.All(copied, s => Assert.False(ignore.Excludes(s), $"{name} copies {s}, which .dockerignore leaves out"));
        }
    }

    [Fact]
    public void DockerIgnore_MatchesPathsTheWayDockerDoes()
    {
        // `bin/` names only a top-level bin in Docker (unlike git); a re-include further down wins over `*`.
        var ignore = new DockerIgnore("*\n!src/\nbin/\n!src/keep/bin\n**/obj\n");
        Assert.True(ignore.Excludes("README.md"));
        Assert.False(ignore.Excludes("src/a.cs"));
        Assert.False(ignore.Excludes("src/x/bin/a.dll"));
        Assert.True(ignore.Excludes("bin/a.dll"));
        Assert.False(ignore.Excludes("src/keep/bin/a.dll"));
        Assert.True(ignore.Excludes("src/x/obj/a.json"));
    }
}
