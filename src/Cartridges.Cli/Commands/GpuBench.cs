// `cartridges bench gpu`: the engine on an accelerator against the CPU f32 reference, in one process. Parity: the same
// weights and prompts on every (device, dtype) candidate — full-forward logits, cached decode, a prefix (cartridge)
// of the first tokens, two composed prefixes, and one cartridge training step's gradients — as max differences
// relative to the reference's largest value, with greedy agreement where the reference's top-1 margin decides it.
// Speed: prefill tok/s and decode tok/s at several batch sizes per candidate. Without CUDA the candidates are the CPU
// in bf16 (the CUDA default dtype, otherwise never run here), which is the half CI runs.
using System.CommandLine;
using Cartridges.Model;
using Cartridges.Model.Engine;
using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;
using Spectre.Console;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cartridges.Cli.Commands;

/// <summary>The `bench gpu` command.</summary>
internal static class GpuBench
{
    /// <summary>One parity check: the largest |Δ| over the reference's largest |value|, and greedy agreement.</summary>
    sealed record ParityRow(string Candidate, string Check, double Relative, double Tolerance, int Agreed, int Decided)
    {
        public bool Ok => Relative <= Tolerance && Agreed == Decided;
    }

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory or Hugging Face id", Required = true };
        var devices = new Option<string>("--candidates")
        {
            Description = "device:dtype pairs compared with cpu:f32 (default: cuda:f32,cuda:bf16 when CUDA is available, else cpu:bf16)",
        };
        var batches = new Option<string>("--batches") { DefaultValueFactory = _ => "1,8,32,128" };
        var prefill = new Option<int>("--prefill-tokens") { DefaultValueFactory = _ => 1024 };
        var decode = new Option<int>("--decode-tokens") { DefaultValueFactory = _ => 32 };
        var speed = new Option<bool>("--speed") { Description = "Also time prefill and decode per candidate", DefaultValueFactory = _ => true };
        var cmd = new Command("gpu", "The engine on an accelerator (or CPU bf16) against CPU f32: parity of logits, cached decode, prefixes, composition and gradients; speed")
        {
            model, devices, batches, prefill, decode, speed,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            var candidates = (pr.GetValue(devices) is { Length: > 0 } list ? list : cuda.is_available() ? "cuda:f32,cuda:bf16" : "cpu:bf16")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseCandidate).ToList();
            AnsiConsole.MarkupLine($"[bold]bench gpu[/]: {Markup.Escape(dir)}; reference cpu:f32; candidates {string.Join(", ", candidates.Select(c => c.Name))}; CUDA available: {cuda.is_available()}");
            var rows = new List<ParityRow>();
            foreach (var c in candidates)
            {
                var found = await DeviceWorker.For(c.Device).InvokeAsync(() => Parity(dir, c));
                rows.AddRange(found);
            }
            var table = new Table().AddColumns("candidate", "check", "max |Δ| / max |ref|", "tolerance", "greedy agreed", "");
            foreach (var r in rows)
                table.AddRow(r.Candidate, r.Check, $"{r.Relative:E2}", $"{r.Tolerance:E0}", $"{r.Agreed}/{r.Decided}", r.Ok ? "[green]ok[/]" : "[red]FAIL[/]");
            AnsiConsole.Write(table);
            if (pr.GetValue(speed))
            {
                // The CPU reference is timed only beside CPU candidates: on an accelerator it would take longer than the rest.
                var timed = candidates.All(c => c.Device.type == TorchSharp.DeviceType.CPU) ? candidates.Prepend(("cpu:f32", CPU, ScalarType.Float32)) : candidates;
                foreach (var c in timed)
                    await SpeedAsync(dir, c, pr.GetValue(prefill), pr.GetValue(decode), pr.GetValue(batches)!.Split(',').Select(int.Parse).ToArray());
            }
            var failed = rows.Count(r => !r.Ok);
            Console.WriteLine(failed == 0 ? $"parity: all {rows.Count} checks within tolerance" : $"parity: {failed} of {rows.Count} checks outside tolerance");
            return failed == 0 ? 0 : 1;
        }));
        return cmd;
    }

    static (string Name, Device Device, ScalarType DType) ParseCandidate(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3) throw new ArgumentException($"--candidates: '{text}' is not device:dtype (e.g. cuda:bf16, cuda:1:f32, cpu:bf16).");
        var dtype = parts[^1] switch
        {
            "f32" => ScalarType.Float32,
            "bf16" => ScalarType.BFloat16,
            "f16" => ScalarType.Float16,
            var d => throw new ArgumentException($"--candidates: unknown dtype '{d}' in '{text}' (f32, bf16 or f16)."),
        };
        return (text, TorchRuntime.Parse(string.Join(':', parts[..^1])), dtype);
    }

    /// <summary>
    /// Tolerance on max |Δ| relative to the reference's largest value: f32 kernels differ by rounding (1e-4, as the CPU
    /// equivalence tests allow); half-precision formats keep 8 (bf16) or 11 (f16) mantissa bits, so each rounding is up
    /// to 2^-8 or 2^-11 relative and a few layers of sums compound it — 5e-2 and 1e-2.
    /// </summary>
    static double ToleranceFor(ScalarType dtype, bool gradient = false) => (dtype switch
    {
        ScalarType.BFloat16 => 5e-2,
        ScalarType.Float16 => 1e-2,
        _ => 1e-4,
    }) * (gradient ? 4 : 1); // backward doubles the chain of roundings, and more

    static List<ParityRow> Parity(string dir, (string Name, Device Device, ScalarType DType) c)
    {
        var rows = new List<ParityRow>();
        // The reference runs on the CPU; its tensors are moved to the candidate's thread only as plain arrays.
        using var reference = TransformerModel.Load(dir, CPU, ScalarType.Float32);
        using var model = TransformerModel.Load(dir, c.Device, c.DType);
        var rng = new Random(5);
        var vocab = model.Config.VocabSize;
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
        var tol = ToleranceFor(c.DType);
        using var scope = NewDisposeScope();

        using (no_grad())
        {
            var tokens = Tokens(64);
            var refLogits = Full(reference, tokens, null);
            rows.Add(Compare(c.Name, "logits (64 tokens)", refLogits, Full(model, tokens, null), tol));

            // Cached decode: 40 prompt tokens through the cache, then 24 one at a time.
            var cache = model.NewCache(1, 16);
            var slot = cache.Allocate();
            var parts = new List<Tensor> { model.Logits(Step(model, cache, slot, tokens[..40]))[0] };
            for (var i = 40; i < tokens.Length; i++) parts.Add(model.Logits(Step(model, cache, slot, [tokens[i]]))[0]);
            rows.Add(Compare(c.Name, "cached decode", refLogits, cat(parts, 0), tol));
            cache.Dispose();

            // A prefix of the first 24 tokens (a cartridge initialised from them) and the rest after it.
            using var refPrefix = PrefixBuilder.FromTokens(reference, tokens[..24]);
            using var prefix = PrefixBuilder.FromTokens(model, tokens[..24]);
            rows.Add(Compare(c.Name, "prefix (first 24 tokens)", Full(reference, tokens[24..], [new PrefixSegment(refPrefix, 0)]),
                Full(model, tokens[24..], [new PrefixSegment(prefix, 0)]), tol));

            // Two prefixes composed, then a question.
            var second = Tokens(16);
            using var refSecond = PrefixBuilder.FromTokens(reference, second);
            using var modelSecond = PrefixBuilder.FromTokens(model, second);
            var question = Tokens(12);
            rows.Add(Compare(c.Name, "composition (24 + 16)", Full(reference, question, PrefixSegment.Compose([refPrefix, refSecond])),
                Full(model, question, PrefixSegment.Compose([prefix, modelSecond])), tol));
        }

        // One training step's gradients on a 16-token cartridge: cross-entropy of a sequence read after it.
        var init = Tokens(16);
        var sequence = Tokens(32);
        var refGrad = CartridgeGradient(reference, init, sequence);
        var grad = CartridgeGradient(model, init, sequence);
        var gradDiff = (grad - refGrad).abs().max().item<float>() / Math.Max(1e-12, refGrad.abs().max().item<float>());
        rows.Add(new ParityRow(c.Name, "cartridge gradient", gradDiff, ToleranceFor(c.DType, gradient: true), 0, 0));
        return rows;
    }

    static Tensor Full(TransformerModel m, int[] tokens, IReadOnlyList<PrefixSegment>? prefix) =>
        m.Logits(m.Forward(new ForwardBatch { Tokens = tensor(tokens.Select(t => (long)t).ToArray(), device: m.Device).view(1, -1), Prefixes = prefix is null ? null : [prefix] }))[0]
            .to(ScalarType.Float32).cpu();

    static Tensor Step(TransformerModel m, KvCache cache, int slot, int[] tokens) =>
        m.Forward(new ForwardBatch { Tokens = tensor(tokens.Select(t => (long)t).ToArray(), device: m.Device).view(1, -1), Cache = cache, Slots = [slot] });

    static Tensor CartridgeGradient(TransformerModel m, int[] init, int[] sequence)
    {
        using var cartridge = CartridgeInitializer.FromTokens(m, init);
        var prefix = cartridge.AsPrefix();
        var logits = m.Logits(m.Forward(new ForwardBatch
        {
            Tokens = tensor(sequence[..^1].Select(t => (long)t).ToArray(), device: m.Device).view(1, -1),
            Prefixes = [[new PrefixSegment(prefix, 0)]],
        }))[0];
        var loss = F.cross_entropy(logits, tensor(sequence[1..].Select(t => (long)t).ToArray(), device: m.Device));
        loss.backward();
        return cat(cartridge.Parameters.Select(p => p.grad!.to(ScalarType.Float32).cpu().flatten()).ToArray(), 0).detach();
    }

    static ParityRow Compare(string candidate, string check, Tensor reference, Tensor candidateLogits, double tol)
    {
        var scale = reference.abs().max().item<float>();
        var diff = (candidateLogits - reference).abs().max().item<float>();
        // Greedy agreement only where the reference's top-1 margin exceeds twice the tolerated difference.
        var top = reference.topk(2, -1).values;
        var margins = (top.select(-1, 0) - top.select(-1, 1)).data<float>().ToArray();
        var refArg = reference.argmax(-1).data<long>().ToArray();
        var candArg = candidateLogits.argmax(-1).data<long>().ToArray();
        var decided = Enumerable.Range(0, margins.Length).Where(i => margins[i] > 2 * tol * Math.Max(1, scale)).ToList();
        return new ParityRow(candidate, check, diff / Math.Max(1e-12, scale), tol, decided.Count(i => refArg[i] == candArg[i]), decided.Count);
    }

    static async Task SpeedAsync(string dir, (string Name, Device Device, ScalarType DType) c, int prefillTokens, int decodeTokens, int[] batches)
    {
        var model = await DeviceWorker.For(c.Device).InvokeAsync(() => TransformerModel.Load(dir, c.Device, c.DType));
        using var engine = new GenerationEngine(model, new EngineOptions { MaxBatch = batches.Max() });
        var rng = new Random(3);
        var tokens = Enumerable.Range(0, prefillTokens).Select(_ => rng.Next(model.Config.VocabSize)).ToArray();
        // The same timings as `bench model`: one forward pass (logits read back, so the device has finished), and greedy
        // decoding through the engine from the last first token to the last finish.
        var prefillSeconds = await engine.RunAsync(m => BenchCommands.TimePrefill(m, tokens));
        var line = $"{c.Name,-10} prefill {prefillTokens} tokens {prefillTokens / prefillSeconds:F0} tok/s";
        foreach (var b in batches)
            line += $"; decode batch {b} {(await BenchCommands.TimeDecode(engine, b, 32, decodeTokens, rng)).TokensPerSecond:F0} tok/s";
        Console.WriteLine(line);
    }
}
