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

    [Fact]
    public async Task Demo_OnARecordsModel_ShowsGoldAnswersBesideCartridgeTruncationAndWholeDocument()
    {
        var root = Directory.CreateTempSubdirectory("cartridges-records-demo-test-").FullName;
        try
        {
            // A records model (keyed wording, a 4k context) trained for two steps: it does not read, but it says what it
            // was trained on, so the demo switches to the records document and its three-way comparison.
            var model = Path.Combine(root, "model");
            var (code, output, error) = await CliProcess.RunAsync("model", "pretrain", "--recipe", "tiny", "--fact-style", "keyed", "--steps", "2",
                "--max-positions", "4096", "--out", model);
            Assert.True(code == 0, error + output);
            (code, output, error) = await CliProcess.RunAsync("demo", "--model", model, "--data", Path.Combine(root, "data"), "--device", "cpu");
            Assert.True(code == 0, error + output);
            Assert.Contains("patient records", output);
            Assert.Contains("gold", output);
            Assert.Contains("whole document in context", output);
            Assert.Contains("exact match", output);
            Assert.Contains("less KV than the whole document", output);
            var document = File.ReadAllText(Path.Combine(root, "data", "records-document.txt"));
            Assert.True(document.Length > 6000, $"a ~2k-token document ({document.Length} characters)");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
