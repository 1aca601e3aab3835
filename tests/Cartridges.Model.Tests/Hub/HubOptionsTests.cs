using Cartridges.Model.Hub;

namespace Cartridges.Model.Tests.Hub;

public sealed class HubOptionsTests
{
    [Fact]
    public void ToString_HidesTheToken()
    {
        var text = new HubOptions { Token = "hf_secret" }.ToString();

        Assert.DoesNotContain("hf_secret", text);
        Assert.Contains("Token = ***", text);
    }
}
