using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;

namespace Cartridges.Model.Tests.Cli;

/// <summary>
/// `bench gpu`'s CPU half: without CUDA it compares CPU bf16 (the CUDA default dtype) with CPU f32 on the same weights —
/// logits, cached decode, a prefix, a composition and a cartridge's gradients — and exits non-zero if any check fails.
/// </summary>
public sealed class GpuBenchCliTests
{
    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Qwen3)]
    public async Task CpuHalf_Bf16MatchesF32WithinTolerance_OnEveryCheck(ModelFamily family)
    {
        var (code, output, error) = await CliProcess.RunAsync("bench", "gpu", "--model", TestModels.Dir(family), "--candidates", "cpu:bf16",
            "--batches", "1,4", "--prefill-tokens", "64", "--decode-tokens", "4");
        Assert.True(code == 0, output + error);
        Assert.Contains("parity: all 5 checks within tolerance", output);
        foreach (var check in new[] { "logits", "cached decode", "prefix", "composition", "cartridge" }) Assert.Contains(check, output);
        Assert.Contains("cpu:bf16   prefill 64 tokens", output);
        Assert.Contains("decode batch 4", output);
    }

    [Fact]
    public async Task ABadCandidate_IsNamed()
    {
        var (code, _, error) = await CliProcess.RunAsync("bench", "gpu", "--model", TestModels.Dir(ModelFamily.Llama), "--candidates", "cpu:f8");
        Assert.Equal(1, code);
        Assert.Contains("unknown dtype 'f8'", error);
    }
}
