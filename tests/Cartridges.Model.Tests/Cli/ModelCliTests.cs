using System.Text.Json;
using Cartridges.Model.Config;
using Cartridges.Model.Tests.Support;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using static TorchSharp.torch;

namespace Cartridges.Model.Tests.Cli;

/// <summary>`cartridges model …` end to end, through the real executable.</summary>
public sealed class ModelCliTests : IDisposable
{
    readonly string _dir = TestModels.TempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task InitRandom_Info_Tokenize_Logits_Generate()
    {
        var model = Path.Combine(_dir, "m");
        var init = await CliProcess.RunAsync("model", "init-random", "--arch", "qwen3", "--preset", "tiny", "--seed", "3", "--out", model, "--dtype", "bf16");
        Assert.True(init.Code == 0, init.Err);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" }) Assert.True(File.Exists(Path.Combine(model, f)), f);

        var info = await CliProcess.RunAsync("model", "info", "--model", model);
        Assert.True(info.Code == 0, info.Err);
        Assert.Contains("Qwen3ForCausalLM", info.Out);
        Assert.Contains("KV bytes/token", info.Out);

        var tok = await CliProcess.RunAsync("model", "tokenize", "--model", model, "--text", "Hello world<|im_end|>", "--special-tokens");
        Assert.True(tok.Code == 0, tok.Err);
        var ids = JsonSerializer.Deserialize<int[]>(tok.Out)!;
        Assert.Equal([15496, 995, 50258], ids);
        // Without the flag the text is content: the control token's spelling stays text.
        var plain = await CliProcess.RunAsync("model", "tokenize", "--model", model, "--text", "Hello world<|im_end|>");
        Assert.True(plain.Code == 0, plain.Err);
        Assert.DoesNotContain(50258, JsonSerializer.Deserialize<int[]>(plain.Out)!);
        var dec = await CliProcess.RunAsync("model", "tokenize", "--model", model, "--decode", string.Join(",", ids));
        Assert.Equal("Hello world<|im_end|>", dec.Out.TrimEnd('\n'));

        var outFile = Path.Combine(_dir, "logits.safetensors");
        var logits = await CliProcess.RunAsync("model", "logits", "--model", model, "--token-ids", "1,2,3,4", "--out", outFile);
        Assert.True(logits.Code == 0, logits.Err);
        using (var f = SafeTensorsFile.Open(outFile))
        {
            Assert.Equal([4L, 50304L], f.Tensors["logits"].Shape);
            Assert.Equal("F32", f.Tensors["logits"].DType);
            using var m = TransformerModel.Load(model, CPU, ScalarType.Float32);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var expected = m.Logits(m.Forward(new ForwardBatch { Tokens = tensor(new long[] { 1, 2, 3, 4 }).view(1, -1) }))[0];
            Assert.True((f.Read("logits") - expected).abs().max().item<float>() < 1e-5);
        }

        var gen = await CliProcess.RunAsync("model", "generate", "--model", model, "--prompt", "Hi", "--max-tokens", "5");
        Assert.True(gen.Code == 0, gen.Err);
        Assert.Contains("5 tokens", gen.Err);
    }

    [Fact]
    public async Task BadInput_GivesOneClearLine_AndExitCode1()
    {
        var missing = await CliProcess.RunAsync("model", "info", "--model", Path.Combine(_dir, "nope"));
        Assert.Equal(1, missing.Code);
        Assert.StartsWith("error:", missing.Err);

        var model = TestModels.Dir(ModelFamily.Llama);
        var empty = await CliProcess.RunAsync("model", "generate", "--model", model, "--prompt", " ");
        Assert.Equal(1, empty.Code);
        Assert.Contains("prompt is empty", empty.Err);

        var badIds = await CliProcess.RunAsync("model", "logits", "--model", model, "--token-ids", "1,x", "--out", Path.Combine(_dir, "l.safetensors"));
        Assert.Equal(1, badIds.Code);
        Assert.Contains("'x' is not a token id", badIds.Err);

        var both = await CliProcess.RunAsync("model", "logits", "--model", model, "--token-ids", "1", "--text", "a", "--out", "x");
        Assert.NotEqual(0, both.Code);
        Assert.Contains("exactly one of --token-ids or --text", both.Err);

        var arch = await CliProcess.RunAsync("model", "init-random", "--arch", "gpt2", "--out", _dir);
        Assert.NotEqual(0, arch.Code);
    }
}
