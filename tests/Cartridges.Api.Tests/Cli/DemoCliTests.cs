using Cartridges.Model.Tests.Support;

namespace Cartridges.Api.Tests.Cli;

/// <summary>README's main command: `cartridges demo` trains on the shipped sample and prints answers and the comparison.</summary>
public sealed class DemoCliTests
{
    [Fact]
    public async Task Demo_TrainsAsksAndCompares()
    {
        var data = Directory.CreateTempSubdirectory("cartridges-demo-test-").FullName;
        try
        {
            var (code, output, error) = await CliProcess.RunAsync("demo", "--data", data, "--device", "cpu");
            Assert.True(code == 0, error + output);
            Assert.Contains("Serving after 16 steps", output);
            Assert.Contains("Q: Who keeps the lighthouse log?", output);
            Assert.Equal(3, output.Split("A:").Length - 1);
            Assert.Contains("smaller than the document's", output);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
