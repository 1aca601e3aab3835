// `cartridges create|start|status|ask|list|delete`: a client of a running cluster over its HTTP API
// (--endpoint, --api-key or CARTRIDGES_ENDPOINT / CARTRIDGES_API_KEY), using the API's own request/response types.
using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cartridges.Grains.Hosting;
using Cartridges.Silo.Api;
using Microsoft.AspNetCore.Builder;
using OpenAI.Chat;
using Spectre.Console;

namespace Cartridges.Cli.Commands;

/// <summary>Cartridge commands that talk to a cluster over HTTP.</summary>
internal static class RemoteCommands
{
    static readonly Option<string> Endpoint = new("--endpoint")
    {
        Description = "Cluster HTTP endpoint (env CARTRIDGES_ENDPOINT)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CARTRIDGES_ENDPOINT") ?? "http://localhost:5000",
    };

    static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "Tenant API key (env CARTRIDGES_API_KEY)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CARTRIDGES_API_KEY"),
    };

    public static IEnumerable<Command> Create() => [CreateCommand(), ImportCommand(), StartCommand(), StopCommand(), StatusCommand(), AskCommand(), ChatCommand(), ListCommand(), DeleteCommand()];

    static readonly Option<string?> Embedded = new("--embedded")
    {
        Description = "Run an embedded silo on this data directory instead of calling --endpoint (it lives while the command runs)",
    };

    static readonly Option<string?> EmbeddedModel = new("--embedded-model")
    {
        Description = "Base model of the embedded silo (directory or Hugging Face id; env CARTRIDGES_MODEL)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CARTRIDGES_MODEL"),
    };

    static Command WithConnection(Command cmd)
    {
        cmd.Options.Add(Endpoint);
        cmd.Options.Add(ApiKey);
        cmd.Options.Add(Embedded);
        cmd.Options.Add(EmbeddedModel);
        return cmd;
    }

    /// <summary>An HTTP client of the cluster, and the embedded silo behind it when there is one.</summary>
    sealed class Connection(HttpClient http, WebApplication? embedded) : IAsyncDisposable
    {
        public HttpClient Http { get; } = http;

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            if (embedded is not null) await embedded.DisposeAsync();
        }
    }

    static async Task<Connection> ConnectAsync(ParseResult pr)
    {
        if (pr.GetValue(Embedded) is not { } dataDir)
        {
            var client = new HttpClient { BaseAddress = new Uri(pr.GetValue(Endpoint)!.TrimEnd('/') + "/v1/"), Timeout = TimeSpan.FromMinutes(10) };
            if (pr.GetValue(ApiKey) is { Length: > 0 } key) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return new Connection(client, null);
        }
        // Embedded: the same silo host as `serve`, on loopback ports of its own, with requests acting as tenant "local".
        var model = pr.GetValue(EmbeddedModel) ?? throw new ArgumentException("--embedded needs --embedded-model (or CARTRIDGES_MODEL).");
        var app = ServeCommand.Build(Path.GetFullPath(dataDir), model, "Local", null, "auto", accelerator: true, urls: "http://127.0.0.1:0",
            extra: new() { ["Cartridges:Api:AnonymousTenant"] = "local", ["Orleans:SiloPort"] = Port(), ["Orleans:GatewayPort"] = Port() }, quiet: true);
        await app.StartAsync();
        var address = app.Urls.First();
        return new Connection(new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/v1/"), Timeout = TimeSpan.FromMinutes(10) }, app);
    }


    // The API's errors are OpenAI-shaped; show their message, not the HTTP plumbing.
    static async Task<HttpResponseMessage> Check(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) return response;
        var body = await response.Content.ReadAsStringAsync();
        string message;
        try
        {
            message = JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString() ?? body;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            message = body;
        }
        throw new InvalidOperationException($"{(int)response.StatusCode} {response.ReasonPhrase}: {message}");
    }

    static async Task<CartridgeDto> GetAsync(HttpClient http, string name) =>
        (await (await Check(await http.GetAsync($"cartridges/{Uri.EscapeDataString(name)}"))).Content.ReadFromJsonAsync<CartridgeDto>(ApiJson.Options))!;

    static void Print(CartridgeDto c) =>
        Console.WriteLine($"{c.Name,-24} {c.State,-10} {c.Progress * 100,5:F1}%  step {c.Step}/{c.TotalSteps}" +
                          (c.Loss is { } loss ? $"  loss {loss:F4}" : "") + (c.Silo is { } silo ? $"  silo {silo}" : "") +
                          (c.ResidentBytes > 0 ? $"  {c.ResidentBytes / 1024.0:F0} KiB resident" : "") + (c.Error is { } error ? $"  error: {error}" : ""));

    static string Port() => EmbeddedSilo.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture);

    static Command CreateCommand()
    {
        var name = new Argument<string>("name");
        var corpus = new Option<string[]>("--corpus") { Description = "Corpus file(s), UTF-8, concatenated", Required = true, AllowMultipleArgumentsPerToken = true };
        var model = new Option<string>("--model") { DefaultValueFactory = _ => "default" };
        var tokens = new Option<int>("--tokens") { Description = "Cartridge size p", DefaultValueFactory = _ => 512 };
        var start = new Option<bool>("--start") { Description = "Start training right away" };
        var wait = new Option<bool>("--wait") { Description = "With --start: follow progress until Serving (exit 1 if it fails or stops)" };
        var conversations = new Option<int?>("--conversations") { Description = "Self-study conversations to synthesize" };
        var perShard = new Option<int?>("--conversations-per-shard");
        var chunkMin = new Option<int?>("--chunk-min");
        var chunkMax = new Option<int?>("--chunk-max");
        var maxQuestion = new Option<int?>("--max-question-tokens");
        var maxAnswer = new Option<int?>("--max-answer-tokens");
        var steps = new Option<int?>("--steps");
        var batch = new Option<int?>("--batch-size");
        var lr = new Option<double?>("--lr");
        var cmd = WithConnection(new Command("create", "Create a cartridge on the cluster from corpus files")
        {
            name, corpus, model, tokens, start, wait, conversations, perShard, chunkMin, chunkMax, maxQuestion, maxAnswer, steps, batch, lr,
        });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            await using var connection = await ConnectAsync(pr);
            var http = connection.Http;
            var text = string.Join("\n\n", pr.GetValue(corpus)!.Select(File.ReadAllText));
            var request = new CreateCartridgeRequest
            {
                Name = pr.GetValue(name),
                Model = pr.GetValue(model),
                Corpus = text,
                SizeTokens = pr.GetValue(tokens),
                Start = pr.GetValue(start),
                Synthesis = new SynthesisDto(pr.GetValue(conversations), pr.GetValue(perShard), pr.GetValue(chunkMin), pr.GetValue(chunkMax),
                    pr.GetValue(maxQuestion), pr.GetValue(maxAnswer), null, null, null),
                Training = new TrainingDto(pr.GetValue(steps), pr.GetValue(batch), pr.GetValue(lr), null, null),
            };
            if (pr.GetValue(wait) && !pr.GetValue(start)) throw new ArgumentException("--wait needs --start.");
            var response = await Check(await http.PostAsJsonAsync("cartridges", request, ApiJson.Options, ct));
            if (pr.GetValue(wait)) return await WatchAsync(http, request.Name!, ct);
            Print((await response.Content.ReadFromJsonAsync<CartridgeDto>(ApiJson.Options, ct))!);
            return 0;
        }));
        return cmd;
    }

    static Command ImportCommand()
    {
        var name = new Argument<string>("name");
        var file = new Argument<string>("file") { Description = "A trained cartridge (safetensors from `cartridges train` or `distill`)" };
        var corpus = new Option<string[]>("--corpus") { Description = "The document(s) it was trained on, kept so the cluster can train it again", Required = true, AllowMultipleArgumentsPerToken = true };
        var model = new Option<string>("--model") { DefaultValueFactory = _ => "default" };
        var cmd = WithConnection(new Command("import", "Serve a cartridge trained elsewhere: upload its file; it is checked against the base model and serves at once")
        {
            name, file, corpus, model,
        });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            var path = pr.GetValue(file)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"Cartridge file `{path}` does not exist.");
            await using var connection = await ConnectAsync(pr);
            using var form = new MultipartFormDataContent
            {
                { new StringContent(pr.GetValue(name)!), "name" },
                { new StringContent(pr.GetValue(model)!), "model" },
                { new StringContent(string.Join("\n\n", pr.GetValue(corpus)!.Select(File.ReadAllText))), "corpus" },
                { new ByteArrayContent(await File.ReadAllBytesAsync(path, ct)), "cartridge", Path.GetFileName(path) }, // the API's field for a trained file
            };
            var response = await Check(await connection.Http.PostAsync("cartridges", form, ct));
            Print((await response.Content.ReadFromJsonAsync<CartridgeDto>(ApiJson.Options, ct))!);
            return 0;
        }));
        return cmd;
    }

    static Command StartCommand() => ActionCommand("start", "Start (or retry) generating → training → serving");

    static Command StopCommand() => ActionCommand("stop", "Stop generating or training at the next unit of work, keeping what is done (start goes on from it)");

    // POST /v1/cartridges/{name}/{action}, then print the cartridge as it is now (start --wait: follow it until it settles).
    static Command ActionCommand(string action, string description)
    {
        var name = new Argument<string>("name");
        var wait = new Option<bool>("--wait") { Description = "Follow progress with a live bar until Serving (exit 1 if it fails or stops)" };
        var cmd = WithConnection(new Command(action, description) { name });
        if (action == "start") cmd.Options.Add(wait);
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            await using var connection = await ConnectAsync(pr);
            var http = connection.Http;
            await Check(await http.PostAsync($"cartridges/{Uri.EscapeDataString(pr.GetValue(name)!)}/{action}", null, ct));
            if (action == "start" && pr.GetValue(wait)) return await WatchAsync(http, pr.GetValue(name)!, ct);
            Print(await GetAsync(http, pr.GetValue(name)!));
            return 0;
        }));
        return cmd;
    }

    static Command StatusCommand()
    {
        var name = new Argument<string>("name");
        var watch = new Option<bool>("--watch") { Description = "Follow progress with a live bar until Serving or Failed" };
        var json = JsonOption();
        var cmd = WithConnection(new Command("status", "Show a cartridge's state and progress") { name, watch, json });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            await using var connection = await ConnectAsync(pr);
            var http = connection.Http;
            var cartridge = pr.GetValue(name)!;
            if (pr.GetValue(json))
            {
                // Machine-readable: the API's own object, once (with --watch, once it settles), nothing else on stdout.
                var dto = await GetAsync(http, cartridge);
                while (pr.GetValue(watch) && !WatchView.Settled(dto.State))
                {
                    await Task.Delay(1000, ct);
                    dto = await GetAsync(http, cartridge);
                }
                Console.WriteLine(JsonSerializer.Serialize(dto, ApiJson.Options));
                return !pr.GetValue(watch) || dto.State == "serving" ? 0 : 1;
            }
            if (!pr.GetValue(watch))
            {
                Print(await GetAsync(http, cartridge));
                return 0;
            }
            return await WatchAsync(http, cartridge, ct);
        }));
        return cmd;
    }

    // A live bar until the cartridge settles (serving, failed, stopped); exit code 1 unless it ends serving.
    static async Task<int> WatchAsync(HttpClient http, string cartridge, CancellationToken ct)
    {
        CartridgeDto last = await GetAsync(http, cartridge);
        // One bar per phase, each measured in its own unit (shards, optimizer steps), and the time left as the server
        // estimates it: a single blended percentage next to "step 70/300" read as two different answers.
        await AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async ctx =>
            {
                var generating = ctx.AddTask($"{cartridge} generating", maxValue: 1);
                var training = ctx.AddTask($"{cartridge} training", autoStart: false, maxValue: 1);
                while (true)
                {
                    WatchView.Update(last, generating, training);
                    ctx.Refresh(); // the last frame too, also where the output is not a terminal
                    if (WatchView.Settled(last.State)) break;
                    await Task.Delay(1000, ct);
                    last = await GetAsync(http, cartridge);
                }
            });
        Print(last);
        return last.State == "serving" ? 0 : 1;
    }

    static Command AskCommand()
    {
        var name = new Argument<string>("name");
        var question = new Argument<string>("question");
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 0f };
        var compose = new Option<string[]>("--with") { Description = "Further cartridges to compose after this one", DefaultValueFactory = _ => [] };
        var cmd = WithConnection(new Command("ask", "Ask a cartridge a question (streams the answer)") { name, question, maxTokens, temperature, compose });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            await using var connection = await ConnectAsync(pr);
            var http = connection.Http;
            var chat = CartridgeChat.Create(http, $"cartridge/{pr.GetValue(name)}");
            var options = new ChatCompletionOptions { MaxOutputTokenCount = pr.GetValue(maxTokens), Temperature = pr.GetValue(temperature) };
            // Composition is this API's extension of the request body ("cartridges"), set through the client's patch.
#pragma warning disable SCME0001
            if (pr.GetValue(compose) is { Length: > 0 } others)
                options.Patch.Set("$.cartridges"u8, BinaryData.FromObjectAsJson(new[] { pr.GetValue(name)! }.Concat(others).Select(id => new { id }).ToArray()));
#pragma warning restore SCME0001
            await CartridgeChat.StreamAsync(chat, [new UserChatMessage(pr.GetValue(question))], options, ct);
            return 0;
        }));
        return cmd;
    }

    static Command ChatCommand()
    {
        var name = new Argument<string>("name");
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 256 };
        var cmd = WithConnection(new Command("chat", "Chat with a cartridge interactively (streams; an empty line or Ctrl+D ends)") { name, maxTokens });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            await using var connection = await ConnectAsync(pr);
            var http = connection.Http;
            var model = $"cartridge/{pr.GetValue(name)}";
            var status = await GetAsync(http, pr.GetValue(name)!);
            if (status.State != "serving") throw new InvalidOperationException($"Cartridge '{status.Name}' is {status.State}, not serving yet.");
            var chat = CartridgeChat.Create(http, model);
            var options = new ChatCompletionOptions { MaxOutputTokenCount = pr.GetValue(maxTokens) };
            var history = new List<ChatMessage>();
            while (true)
            {
                Console.Write("> ");
                var line = Console.ReadLine();
                if (string.IsNullOrWhiteSpace(line)) return 0;
                history.Add(new UserChatMessage(line));
                history.Add(new AssistantChatMessage(await CartridgeChat.StreamAsync(chat, history, options, ct)));
            }
        }));
        return cmd;
    }

    static Option<bool> JsonOption() => new("--json") { Description = "Print the API's JSON instead of text (for scripts)" };

    static Command ListCommand()
    {
        var json = JsonOption();
        var cmd = WithConnection(new Command("list", "List the tenant's cartridges") { json });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            await using var connection = await ConnectAsync(pr);
            var http = connection.Http;
            var list = await (await Check(await http.GetAsync("cartridges", ct))).Content.ReadFromJsonAsync<ListDto<CartridgeDto>>(ApiJson.Options, ct);
            if (pr.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(list, ApiJson.Options));
                return 0;
            }
            foreach (var c in list!.Data) Print(c);
            if (list.Data.Count == 0) Console.WriteLine("no cartridges");
            return 0;
        }));
        return cmd;
    }

    static Command DeleteCommand()
    {
        var name = new Argument<string>("name");
        var cmd = WithConnection(new Command("delete", "Delete a cartridge") { name });
        cmd.SetAction((pr, ct) => CliRunner.Run(async () =>
        {
            await using var connection = await ConnectAsync(pr);
            var http = connection.Http;
            await Check(await http.DeleteAsync($"cartridges/{Uri.EscapeDataString(pr.GetValue(name)!)}", ct));
            Console.WriteLine($"deleted {pr.GetValue(name)}");
            return 0;
        }));
        return cmd;
    }
}
