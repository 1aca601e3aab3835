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
            // A model that is not a records model: the demo trains on the chronicle shipped in the executable.
            var model = Path.Combine(data, "tiny");
            var (code, output, error) = await CliProcess.RunAsync("model", "init-random", "--arch", "llama", "--preset", "tiny", "--out", model);
            Assert.True(code == 0, error + output);
            (code, output, error) = await CliProcess.RunAsync("demo", "--model", model, "--data", Path.Combine(data, "run"), "--device", "cpu");
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
    public async Task Demo_ByDefault_UsesTheShippedRecordsModel_AndShowsGoldAnswersBesideCartridgeTruncationAndWholeDocument()
    {
        var root = Directory.CreateTempSubdirectory("cartridges-records-demo-test-").FullName;
        try
        {
            // No --model: the records model committed in models/records-small, on a held-out document.
            var (code, output, error) = await CliProcess.RunAsync("demo", "--data", Path.Combine(root, "data"), "--device", "cpu");
            Assert.True(code == 0, error + output);
            // A held-out document of over 2k tokens: every surname's record, a second note for some, cut to the demo's length.
            var size = System.Text.RegularExpressions.Regex.Match(output, @"(\d+) patient records, ([\d,]+) tokens");
            Assert.True(size.Success, output);
            var patients = int.Parse(size.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(patients, 100, 120);
            Assert.InRange(int.Parse(size.Groups[2].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture), 2000, 2200);
            Assert.Contains("gold", output);
            Assert.Contains("whole document in context", output);
            Assert.Contains("exact match", output);
            Assert.Contains("less KV than the whole document", output);
            var document = File.ReadAllText(Path.Combine(root, "data", "records-document.txt"));
            Assert.Equal(patients, System.Text.RegularExpressions.Regex.Matches(document, @"number,? [A-Z][a-z]+ [0-9]{3}[.;]").Count);
            // The model ships the cartridge of exactly this document, so the demo imports it instead of training.
            Assert.Contains("ships a cartridge", output);
            Assert.Contains("Shipped cartridge", output);
            Assert.Equal(File.ReadAllText(Path.Combine(CliProcess.RepositoryRoot, "models", "records-small", "demo", "document.txt")), document);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
