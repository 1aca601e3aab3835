using System.Globalization;
using System.Text.RegularExpressions;
using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;

namespace Cartridges.Model.Tests.Cli;

/// <summary>`bench model --compare-llamacpp`: llama.cpp runs the same weights in the same process, and the ratios are printed.</summary>
public sealed partial class ModelBenchCliTests
{
    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public async Task CompareLlamaCpp_PrintsBothEnginesAndTheirRatio_ForPrefillAndEveryBatch(ModelFamily family)
    {
        var (code, output, error) = await CliProcess.RunAsync("bench", "model", "--model", TestModels.Dir(family), "--prefill-tokens", "64",
            "--context", "16", "--decode-tokens", "4", "--batches", "1,4", "--long-prefill", "", "--compare-llamacpp");
        Assert.True(code == 0, output + error);
        foreach (var row in new[] { "prefill 64 tokens", "decode batch 1", "decode batch 4" })
        {
            var line = output.Split('\n').Single(l => l.StartsWith($"| {row} |", StringComparison.Ordinal));
            var ratio = Ratio().Match(line);
            Assert.True(ratio.Success, line);
            Assert.True(double.Parse(ratio.Groups[1].Value, CultureInfo.InvariantCulture) > 0, line);
        }
    }

    [GeneratedRegex(@"\| ([0-9.]+)x \|\s*$")]
    private static partial Regex Ratio();
}
