using Cartridges.Model.Hub;

namespace Cartridges.Model.Tests.Hub;

public sealed class HubEnvironmentTests
{
    static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void CacheDir_FollowsHuggingfaceHubPrecedence()
    {
        Assert.Equal("/c", HubEnvironment.CacheDir(Env(("HF_HUB_CACHE", "/c"), ("HF_HOME", "/h"))));
        Assert.Equal(Path.Combine("/h", "hub"), HubEnvironment.CacheDir(Env(("HF_HOME", "/h"))));
        Assert.Equal(Path.Combine("/x", "huggingface", "hub"), HubEnvironment.CacheDir(Env(("XDG_CACHE_HOME", "/x"))));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), HubEnvironment.CacheDir(Env()));
    }

    [Fact]
    public void Token_PrefersVariableThenTokenFile()
    {
        using var home = new TempHfHome();
        File.WriteAllText(Path.Combine(home.Path, "token"), "hf_from_file\n");

        Assert.Equal("hf_var", HubEnvironment.Token(Env(("HF_TOKEN", "hf_var"), ("HF_HOME", home.Path))));
        Assert.Equal("hf_from_file", HubEnvironment.Token(Env(("HF_HOME", home.Path))));
        Assert.Null(HubEnvironment.Token(Env(("HF_HOME", home.Path), ("HF_TOKEN_PATH", Path.Combine(home.Path, "none")))));
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("TRUE", true)]
    [InlineData("yes", true)]
    [InlineData("0", false)]
    [InlineData("", false)]
    public void Offline_ReadsHfHubOffline(string value, bool expected) =>
        Assert.Equal(expected, HubEnvironment.Offline(Env(("HF_HUB_OFFLINE", value))));
}
