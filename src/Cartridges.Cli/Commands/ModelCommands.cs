// `cartridges model …`: create, inspect and run models in Hugging Face layout.
using System.CommandLine;
using System.Text.Json;
using Cartridges.Silo.Api;
using Cartridges.Model;
using Cartridges.Model.Chat;
using Cartridges.Model.Config;
using Cartridges.Model.Engine;
using Cartridges.Model.Presets;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.Model.Weights;
using Cartridges.Training.Cartridges;
using TorchSharp;
using static TorchSharp.torch;

namespace Cartridges.Cli.Commands;

/// <summary>The `model` command group.</summary>
internal static class ModelCommands
{
    static Option<string> ModelOption() => new("--model") { Description = "Model directory (Hugging Face layout) or Hugging Face id", Required = true };
    static Option<string> DeviceOption() => new("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" };
    static Option<string[]> CartridgeOption() => new("--cartridge")
    {
        Description = "Cartridge file to use as the KV prefix; repeat to compose several (in order)",
        DefaultValueFactory = _ => [],
    };

    public static Command Create()
    {
        var cmd = new Command("model", "Create, inspect and run models");
        cmd.Subcommands.Add(InitRandom());
        cmd.Subcommands.Add(Logits());
        cmd.Subcommands.Add(Tokenize());
        cmd.Subcommands.Add(Generate());
        cmd.Subcommands.Add(Info());
        cmd.Subcommands.Add(ProvingGroundCommands.Pretrain());
        return cmd;
    }

    static Command InitRandom()
    {
        var arch = new Option<string>("--arch") { Description = "llama or qwen3", Required = true };
        arch.AcceptOnlyFromAmong("llama", "qwen3");
        var preset = new Option<string>("--preset") { Description = "tiny (d256, 4 layers), small (d1024, 8 layers) or 1b (d2048, 16 layers, Llama-3.2-1B's shape)", DefaultValueFactory = _ => "tiny" };
        preset.AcceptOnlyFromAmong("tiny", "small", "1b");
        var seed = new Option<long>("--seed") { Description = "Random seed of the weights", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Directory to write", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Storage dtype of model.safetensors: f32, bf16 or f16", DefaultValueFactory = _ => "f32" };
        var context = new Option<int?>("--context") { Description = "Context length (max_position_embeddings; default 8192), e.g. 32768 for long-document benchmarks" };
        var cmd = new Command("init-random", "Write a complete model directory with seeded random weights and a real GPT-2 vocabulary")
        {
            arch, preset, seed, output, dtype, context,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(() =>
        {
            var family = ModelPresets.ParseFamily(pr.GetValue(arch)!);
            var dir = pr.GetValue(output)!;
            var config = RandomModelWriter.Create(dir, family, pr.GetValue(preset)!, pr.GetValue(seed), SafeTensorsDType.ParseUser(pr.GetValue(dtype)!), pr.GetValue(context));
            Console.WriteLine($"wrote {config.Architectures[0]} ({pr.GetValue(preset)}) to {Path.GetFullPath(dir)}");
            return Task.FromResult(0);
        }));
        return cmd;
    }

    static Command Logits()
    {
        var model = ModelOption();
        var ids = new Option<string?>("--token-ids") { Description = "Comma-separated token ids" };
        var text = new Option<string?>("--text") { Description = "Text to tokenize (no chat template, no BOS)" };
        var output = new Option<string>("--out") { Description = "safetensors file to write (tensor `logits` [T, V] float32)", Required = true };
        var device = DeviceOption();
        var cartridges = CartridgeOption();
        var cmd = new Command("logits", "One full forward pass; writes the logits of every position") { model, ids, text, output, device, cartridges };
        cmd.Validators.Add(r =>
        {
            if ((r.GetValue(ids) is null) == (r.GetValue(text) is null)) r.AddError("Give exactly one of --token-ids or --text.");
        });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            var tokens = pr.GetValue(ids) is { } list ? CliRunner.ParseIds(list) : HfTokenizer.Load(dir).Encode(pr.GetValue(text)!).ToArray();
            if (tokens.Length == 0) throw new ArgumentException("The input is empty: nothing to score.");
            using var m = TransformerModel.Load(dir, TorchRuntime.Parse(pr.GetValue(device)));
            if (tokens.Max() >= m.Config.VocabSize) throw new ArgumentException($"Token id {tokens.Max()} is outside the vocabulary (0..{m.Config.VocabSize - 1}).");
            if (tokens.Length > m.Config.MaxPositionEmbeddings)
                throw new ArgumentException($"{tokens.Length} tokens exceed the model's context of {m.Config.MaxPositionEmbeddings}.");
            var prefixes = CartridgeLoader.LoadPrefixes(pr.GetValue(cartridges)!, m);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var segments = prefixes.Length == 0 ? null : PrefixSegment.Compose(prefixes);
            var prefixLength = segments is null ? 0 : PrefixSegment.TotalLength(segments);
            if (prefixLength + tokens.Length > m.Config.MaxPositionEmbeddings)
                throw new ArgumentException($"Cartridges ({prefixLength} tokens) plus input ({tokens.Length}) exceed the model's context of {m.Config.MaxPositionEmbeddings}.");
            var hidden = m.Forward(new ForwardBatch
            {
                Tokens = tensor(tokens.Select(t => (long)t).ToArray(), device: m.Device).view(1, -1),
                Prefixes = segments is null ? null : [segments],
            });
            foreach (var p in prefixes) p.Dispose();
            var logits = m.Logits(hidden)[0].cpu();
            SafeTensorsWriter.Write(pr.GetValue(output)!, [new("logits", logits)],
                new Dictionary<string, string> { ["token_ids"] = string.Join(",", tokens) });
            Console.WriteLine($"wrote logits [{tokens.Length}, {logits.shape[1]}] to {pr.GetValue(output)}");
            return 0;
        }));
        return cmd;
    }

    static Command Tokenize()
    {
        var model = ModelOption();
        var text = new Option<string?>("--text") { Description = "Text to encode as content (special-token text stays text)" };
        var special = new Option<bool>("--special-tokens") { Description = "With --text: turn special tokens written out (e.g. <|eot_id|>) into their ids" };
        var decode = new Option<string?>("--decode") { Description = "Comma-separated ids to decode" };
        var messagesFile = new Option<string?>("--messages") { Description = "A JSON file of OpenAI chat messages: print the rendered prompt's ids (as POST /tokenize does)" };
        var noPrompt = new Option<bool>("--no-generation-prompt") { Description = "With --messages: leave out the assistant turn's opening" };
        var thinking = new Option<bool>("--thinking") { Description = "With --messages: Qwen3's enable_thinking=true rendering" };
        var forCartridge = new Option<bool>("--for-cartridge") { Description = "With --messages: render the part that follows a cartridge (no BOS or dated header)" };
        var cmd = new Command("tokenize", "Encode text or a chat to ids (JSON array), or decode ids to text")
        {
            model, text, special, decode, messagesFile, noPrompt, thinking, forCartridge,
        };
        cmd.Validators.Add(r =>
        {
            var given = new[] { r.GetValue(text), r.GetValue(decode), r.GetValue(messagesFile) }.Count(v => v is not null);
            if (given != 1) r.AddError("Give exactly one of --text, --messages or --decode.");
        });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            var tok = HfTokenizer.Load(dir);
            if (pr.GetValue(messagesFile) is { } file)
            {
                var template = ChatTemplate.For(CartridgeInitializer.TemplateFamily(ModelConfig.Load(dir))).WithThinking(pr.GetValue(thinking));
                var ids = template.Encode(tok, ReadMessages(file), !pr.GetValue(noPrompt), pr.GetValue(forCartridge));
                Console.WriteLine(JsonSerializer.Serialize(ids));
            }
            else if (pr.GetValue(text) is { } t) Console.WriteLine(JsonSerializer.Serialize(tok.Encode(t, pr.GetValue(special))));
            else Console.WriteLine(tok.Decode(CliRunner.ParseIds(pr.GetValue(decode)!)));
            return 0;
        }));
        return cmd;
    }

    // OpenAI messages: [{"role": "system"|"developer"|"user"|"assistant", "content": "…" or [{"type": "text", "text": "…"}]}],
    // read exactly as POST /tokenize and chat completions read them.
    static List<ChatMessage> ReadMessages(string file)
    {
        if (!File.Exists(file)) throw new ArgumentException($"--messages file '{file}' does not exist.");
        List<ChatMessageDto?>? dtos;
        try
        {
            dtos = JsonSerializer.Deserialize<List<ChatMessageDto?>>(File.ReadAllText(file), ApiJson.Options);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--messages file '{file}' must hold a JSON array of messages: {e.Message}");
        }
        try
        {
            return OpenAiMessages.Parse(dtos ?? throw new ArgumentException($"--messages file '{file}' holds null, not an array of messages."));
        }
        catch (ApiError e)
        {
            throw new ArgumentException($"--messages file '{file}': {e.Message}");
        }
    }

    static Command Generate()
    {
        var model = ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The user message", Required = true };
        var system = new Option<string?>("--system") { Description = "Optional system message" };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 0f, Description = "0 = greedy" };
        var topP = new Option<float>("--top-p") { DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 0UL };
        var device = DeviceOption();
        var cartridges = CartridgeOption();
        var cmd = new Command("generate", "Apply the chat template and stream the answer")
        {
            model, prompt, system, maxTokens, temperature, topP, topK, seed, device, cartridges,
        };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            var tok = HfTokenizer.Load(dir);
            var config = ModelConfig.Load(dir);
            var template = ChatTemplate.For(config.Family == ModelFamily.Qwen3 ? "qwen3" : "llama");
            var messages = new List<ChatMessage>();
            if (pr.GetValue(system) is { } sys) messages.Add(new ChatMessage("system", sys));
            var userText = pr.GetValue(prompt)!;
            if (string.IsNullOrWhiteSpace(userText)) throw new ArgumentException("The prompt is empty.");
            messages.Add(new ChatMessage("user", userText));
            var cartridgeFiles = pr.GetValue(cartridges)!;
            // With a cartridge, BOS and the system header live in the cartridge: use the cartridge template variant.
            var ids = template.Encode(tok, messages, addGenerationPrompt: true, forCartridge: cartridgeFiles.Length > 0);
            using var engine = await GenerationEngine.LoadAsync(dir, device: pr.GetValue(device));
            foreach (var file in cartridgeFiles) await engine.RegisterPrefixAsync(file, m => CartridgeLoader.LoadPrefixes([file], m)[0]);
            var handle = engine.Submit(new GenerationRequest
            {
                Prompt = ids,
                PrefixIds = cartridgeFiles,
                Sampling = new SamplingParams
                {
                    MaxTokens = pr.GetValue(maxTokens),
                    Temperature = pr.GetValue(temperature),
                    TopP = pr.GetValue(topP),
                    TopK = pr.GetValue(topK),
                    Seed = pr.GetValue(seed),
                    StopTokens = template.StopTokenIds(tok).ToHashSet(),
                },
            }, ct);
            var decoder = tok.CreateStreamingDecoder(skipSpecial: true);
            await foreach (var token in handle.StreamAsync(ct)) Console.Write(decoder.Push(token));
            Console.WriteLine(decoder.Flush());
            var result = await handle.Completion;
            Console.Error.WriteLine($"[{result.Tokens.Count} tokens, {result.FinishReason.ToString().ToLowerInvariant()}, " +
                                    $"{result.Tokens.Count / Math.Max(1e-9, result.Elapsed.TotalSeconds):F1} tok/s]");
            return 0;
        }));
        return cmd;
    }

    static Command Info()
    {
        var model = ModelOption();
        var cmd = new Command("info", "Print architecture, parameter count and KV bytes per token") { model };
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var dir = await CliRunner.ResolveModelAsync(pr.GetValue(model)!, ct);
            var c = ModelConfig.Load(dir);
            using var m = TransformerModel.Load(dir, torch.CPU);
            var elem = c.TorchDtype is "bfloat16" or "float16" ? 2 : 4;
            Console.WriteLine($"architecture     {c.Architectures[0]} ({c.Family})");
            Console.WriteLine($"layers           {c.NumHiddenLayers}");
            Console.WriteLine($"hidden           {c.HiddenSize} (intermediate {c.IntermediateSize})");
            Console.WriteLine($"heads            {c.NumAttentionHeads} query / {c.NumKeyValueHeads} key-value, head_dim {c.HeadDim}");
            Console.WriteLine($"vocab            {c.VocabSize}");
            Console.WriteLine($"context          {c.MaxPositionEmbeddings} (rope_theta {c.RopeTheta}{(c.RopeScaling is { } rs ? $", {rs.Type} x{rs.Factor}" : "")})");
            Console.WriteLine($"tied embeddings  {c.TieWordEmbeddings}");
            Console.WriteLine($"parameters       {m.ParameterCount:N0}");
            Console.WriteLine($"stored dtype     {c.TorchDtype ?? "unknown"}");
            Console.WriteLine($"KV bytes/token   {c.KvBytesPerToken(elem):N0} ({(elem == 2 ? "16-bit" : "f32")}); f32: {c.KvBytesPerToken(4):N0}");
            return 0;
        }));
        return cmd;
    }
}
