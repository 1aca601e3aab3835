using System.Text.Json;
using Cartridges.Model.Config;
using Cartridges.ProvingGround.Bench;
using Cartridges.ProvingGround.Pretraining;
using Cartridges.Training.Cartridges;
using TorchSharp;

namespace Cartridges.ProvingGround.Tests.Bench;

public sealed class QualityBenchTests
{
    static readonly QualityBenchOptions Small = new()
    {
        Lengths = [160],
        Fractions = [8, 4],
        Documents = 2,
        QuestionsPerDocument = 3,
        Conversations = 16,
        Steps = 2,
        BatchSize = 4,
        MaxTurnTokens = 8,
        Users = 2,
        DecodeTokens = 4,
        ComposeFraction = 4,
        Threads = 1,
    };

    [Fact]
    public async Task QualityBench_ScoresEveryMethod_WithTheRightMemory_AndWritesJsonAndPlot()
    {
        var model = TinyModelDir.Fresh();
        new Pretrainer(PretrainRecipe.Named("tiny") with { Steps = 2, ProbeEvery = 0, CheckpointEvery = 2 }, model).Run(resume: false);
        var work = TinyModelDir.Fresh();

        var rows = await new QualityBench(model, Small with { Joint = true }, work).RunAsync();

        var config = ModelConfig.Load(model);
        var kvPerToken = config.KvBytesPerToken(4);
        Assert.Equal(["icl", "truncation", "init", "ntp", "cartridge", "truncation", "init", "ntp", "cartridge", "icl-both", "compose", "compose-shared-pos", "joint"],
            rows.Select(r => r.Method));
        Assert.All(rows, r => Assert.InRange(r.Accuracy, 0, 1));
        Assert.All(rows, r => Assert.Equal(r.P * kvPerToken, r.KvBytes));
        Assert.All(rows, r => Assert.True(r.TokensPerSecond > 0, $"{r.Method} measured no throughput"));
        Assert.All(rows.Where(r => !r.Method.StartsWith("compose", StringComparison.Ordinal) && r.Method is not ("icl-both" or "joint")), r => Assert.Equal(6, r.Questions));
        Assert.Equal([20, 20, 20, 40, 40, 40], rows.Where(r => r.Method is "init" or "ntp" or "cartridge").Select(r => r.P).Order());
        // Truncation holds the ICL prompt's system text plus the document's first p tokens; ICL the whole document.
        var truncation = rows.Where(r => r.Method == "truncation").Select(r => r.P).ToArray();
        Assert.InRange(truncation[1] - truncation[0], 19, 21);
        Assert.InRange(truncation[0], 21, rows[0].P - 160);
        var compose = rows.Single(r => r.Method == "compose");
        Assert.Equal((2 * 40) - 1, compose.P);
        // Questions about a patient both documents name alike have two answers and are left out of all three rows.
        Assert.InRange(compose.Questions, 1, 6);
        Assert.All(rows.Where(r => r.Method is "icl-both" or "compose-shared-pos" or "joint"), r => Assert.Equal(compose.Questions, r.Questions));
        // The joint control holds the composition's KV: one cartridge of 2p - 1 tokens trained on both documents.
        Assert.Equal(compose.P, rows.Single(r => r.Method == "joint").P);
        Assert.True(rows.Single(r => r.Method == "icl-both").P > rows[0].P, "both documents in context hold more KV than one");

        // The trained cartridges are real files for this model.
        using (torch.NewDisposeScope())
        {
            var (cartridge, meta) = CartridgeFile.Load(Path.Combine(work, "n160-doc0", "distill-p40.safetensors"), config, torch.ScalarType.Float32, torch.CPU);
            using (cartridge) Assert.Equal(40, cartridge.Length);
            Assert.Equal(model, meta.Model);
            var (joint, _) = CartridgeFile.Load(Path.Combine(work, "n160-pair0", "distill-p79.safetensors"), config, torch.ScalarType.Float32, torch.CPU);
            using (joint) Assert.Equal(79, joint.Length);
        }

        var json = JsonDocument.Parse(QualityReport.Json(rows, model, Small)).RootElement.GetProperty("rows");
        Assert.Equal(rows.Count, json.GetArrayLength());
        foreach (var key in new[] { "method", "n", "p", "accuracy", "kv_bytes", "tokens_per_s" })
            Assert.True(json[0].TryGetProperty(key, out _), $"JSON rows lack '{key}'");
        var markdown = QualityReport.Markdown(rows, Small.Users);
        Assert.Contains("| compose | 160 | 79 |", markdown, StringComparison.Ordinal);
        Assert.Contains(QualityReport.Headline(rows), l => l.StartsWith("n=160, p=n/8=20: cartridge", StringComparison.Ordinal) && l.Contains("points vs truncation", StringComparison.Ordinal));

        // A second run over the same work directory with other training settings must not reuse these cartridges.
        var stale = await Assert.ThrowsAsync<ArgumentException>(() => new QualityBench(model, Small with { Steps = 3 }, work).RunAsync());
        Assert.Contains("other settings", stale.Message, StringComparison.Ordinal);

        var png = Path.Combine(work, "plot.png");
        AccuracyPlot.Write(rows, png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
    }

    [Theory]
    [InlineData("Lengths", "--lengths")]
    [InlineData("Fractions", "--fractions")]
    [InlineData("Documents", "--documents")]
    [InlineData("Conversations", "--conversations")]
    public void Options_NameTheBadSetting(string setting, string option)
    {
        var bad = setting switch
        {
            "Lengths" => Small with { Lengths = [10] },
            "Fractions" => Small with { Fractions = [1] },
            "Documents" => Small with { Documents = 0 },
            _ => Small with { Conversations = 2 },
        };
        var error = Assert.Throws<ArgumentException>(bad.Validate);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }
}
