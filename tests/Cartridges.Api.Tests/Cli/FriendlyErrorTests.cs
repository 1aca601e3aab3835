using Cartridges.Model.Tests.Support;

namespace Cartridges.Api.Tests.Cli;

/// <summary>The first mistakes a newcomer makes get one clear line and exit 1, not a stack trace or a half-started server.</summary>
public sealed class FriendlyErrorTests
{
    [Fact]
    public async Task ClientCommand_WithNoServer_SaysHowToStartOne()
    {
        var (code, _, error) = await CliProcess.RunAsync("list", "--endpoint", "http://127.0.0.1:9", "--api-key", "k");
        Assert.Equal(1, code);
        Assert.Contains("cannot reach the cluster", error);
        Assert.Contains("cartridges serve", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task Ask_WithNoServer_SaysHowToStartOne_ThroughTheOpenAIClientToo()
    {
        var (code, _, error) = await CliProcess.RunAsync("ask", "handbook", "Hi?", "--endpoint", "http://127.0.0.1:9", "--api-key", "k");
        Assert.Equal(1, code);
        Assert.Contains("cannot reach the cluster", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task Serve_WithAMissingModelDirectory_FailsBeforeStarting()
    {
        var data = Path.Combine(Path.GetTempPath(), $"serve-bad-{Guid.NewGuid():N}");
        var (code, output, error) = await CliProcess.RunAsync("serve", "--model", "./no-such-model-dir", "--data", data, "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Contains("`./no-such-model-dir` does not exist", error);
        Assert.DoesNotContain("serving", output);
        Assert.False(Directory.Exists(data)); // nothing was started, so nothing was written
    }

    [Fact]
    public async Task Pretrain_WithAnUnknownFactKind_NamesItAndTheKnownOnes_BeforeWritingAnything()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pretrain-bad-{Guid.NewGuid():N}");
        var (code, _, error) = await CliProcess.RunAsync("model", "pretrain", "--recipe", "tiny", "--fact-kinds", "number,height", "--out", dir);
        Assert.Equal(1, code);
        Assert.Contains("unknown fact kind 'height'", error);
        Assert.Contains("Number", error);
        Assert.False(Directory.Exists(dir));
    }
}
