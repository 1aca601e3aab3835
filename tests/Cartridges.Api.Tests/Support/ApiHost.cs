// A real silo host (Orleans silo + Kestrel on a free loopback port, Local profile) over a tiny random model, shared
// by every test class. It creates three tenants through TenantAdmin (as `cartridges tenant add` will) and trains two
// cartridges of tenant "acme" through the HTTP API itself, recording the states it saw on the way.
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Cartridges.Grains.Hosting;
using Cartridges.Model.Config;
using Cartridges.Model.Presets;
using Cartridges.Silo.Hosting;
using Cartridges.Silo.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Cartridges.Api.Tests.Support;

/// <summary>The shared silo host, its tenants' keys and the two trained cartridges.</summary>
public sealed class ApiHost : IAsyncLifetime
{
    /// <summary>The tiny model's generation_config.json: temperature 0.7 and top-k 5 when a request states neither.</summary>
    public const string GenerationConfigJson = """{"do_sample": true, "temperature": 0.7, "top_k": 5}""";

    /// <summary>The tiny random model the host serves as "tiny".</summary>
    public string ModelDirectory => Path.Combine(_root, "tiny");

    /// <summary>The dashboard's admin key on the test host.</summary>
    public const string DashboardAdminKey = "test-admin-key";

    /// <summary>Largest POST /v1/cartridges body the test host accepts.</summary>
    public const long MaxCreateBodyBytes = 256 << 10;

    readonly string _root = Path.Combine(Path.GetTempPath(), $"cartridges-api-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
    WebApplication? _app;

    /// <summary>The running application.</summary>
    public WebApplication App => _app ?? throw new InvalidOperationException("not started");

    /// <summary>http://127.0.0.1:port</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The data directory (grain state, blobs, tenants.json).</summary>
    public string DataDirectory => Path.Combine(_root, "data");

    /// <summary>Tenant "acme", owner of the trained cartridges.</summary>
    public string AcmeKey { get; private set; } = "";

    /// <summary>Tenant "globex", which must never see acme's cartridges.</summary>
    public string GlobexKey { get; private set; } = "";

    /// <summary>Tenant "tight": 1 cartridge, 4000 corpus bytes, 1 request at a time.</summary>
    public string TightKey { get; private set; } = "";

    /// <summary>Tenant "load": room for the load test's concurrent requests.</summary>
    public string LoadKey { get; private set; } = "";

    /// <summary>States of "lighthouse" seen while polling GET /v1/cartridges/lighthouse, in order.</summary>
    public List<string> LighthouseStates { get; } = [];

    /// <summary>The last GET body of "lighthouse" (serving).</summary>
    public JsonElement Lighthouse { get; private set; }

    /// <summary>The grain factory of the silo.</summary>
    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    /// <summary>An HttpClient for the API with <paramref name="key"/> as bearer token (none when null).</summary>
    public HttpClient Http(string? key)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>The TinySpec of the cluster tests as a JSON create request (small budgets: trains in seconds).</summary>
    public static object TinyCreate(string name, string corpus, bool start = false) => new
    {
        name,
        model = "tiny",
        corpus,
        size_tokens = 16,
        start,
        synthesis = new
        {
            conversations = 8,
            conversations_per_shard = 2,
            chunk_min_tokens = 32,
            chunk_max_tokens = 64,
            max_question_tokens = 8,
            max_answer_tokens = 8,
            conversations_per_chunk = 2,
            eval_shards = 1,
            seed = 1,
        },
        training = new { steps = 4, batch_size = 4, learning_rate = 2e-2, checkpoint_every = 2, seed = 3 },
    };

    /// <summary>A corpus shipped under tests/data.</summary>
    public static string Corpus(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "tests", "data"))) dir = dir.Parent;
        return File.ReadAllText(Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("tests/data not found"), "tests", "data", name));
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var modelDir = ModelDirectory;
        RandomModelWriter.Create(modelDir, ModelFamily.Llama, "tiny", 31, torch.ScalarType.Float32);
        // Sampling defaults as a Hugging Face model states them: requests that leave them out sample with these.
        await File.WriteAllTextAsync(Path.Combine(modelDir, "generation_config.json"), GenerationConfigJson);
        AcmeKey = await TenantAdmin.AddAsync(DataDirectory, "acme");
        GlobexKey = await TenantAdmin.AddAsync(DataDirectory, "globex");
        TightKey = await TenantAdmin.AddAsync(DataDirectory, "tight", new TenantLimits { MaxCartridges = 1, MaxCorpusBytes = 4000, MaxConcurrentRequests = 1 });
        LoadKey = await TenantAdmin.AddAsync(DataDirectory, "load", new TenantLimits { MaxConcurrentRequests = 1000 });

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = _root, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cartridges:Profile"] = "Local",
            ["Cartridges:DataDirectory"] = DataDirectory,
            ["Cartridges:DefaultModel"] = "tiny",
            ["Cartridges:Models:tiny"] = modelDir,
            ["Cartridges:Device"] = "cpu",
            ["Cartridges:StatsRefresh"] = "00:00:01",
            ["Cartridges:Dashboard:AdminKey"] = DashboardAdminKey,
            ["Cartridges:Api:MaxCreateBodyBytes"] = MaxCreateBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:SiloPort"] = EmbeddedSilo.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = EmbeddedSilo.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:Metadata:gpu"] = "true",
            ["Orleans:Metadata:device_memory_bytes"] = (8L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddCartridgesSilo();
        _app = builder.Build();
        _app.MapCartridgesEndpoints();
        await _app.StartAsync();
        BaseAddress = new Uri(App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        using var http = Http(AcmeKey);
        foreach (var (name, corpus) in new[] { ("lighthouse", "lighthouse-chronicle.txt"), ("orchard", "orchard-ledger.txt") })
        {
            using var created = await http.PostAsJsonAsync("/v1/cartridges", TinyCreate(name, Corpus(corpus)));
            if (created.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"create {name}: {created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            if (name == "lighthouse") LighthouseStates.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString()!);
            using var started = await http.PostAsync($"/v1/cartridges/{name}/start", null);
            if (started.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"start {name}: {started.StatusCode}");
        }
        Lighthouse = await WaitForServingAsync(http, "lighthouse", LighthouseStates);
        await WaitForServingAsync(http, "orchard", []);
    }

    static async Task<JsonElement> WaitForServingAsync(HttpClient http, string name, List<string> seen)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            var body = await http.GetFromJsonAsync<JsonElement>($"/v1/cartridges/{name}");
            var state = body.GetProperty("state").GetString()!;
            if (seen.Count == 0 || seen[^1] != state) seen.Add(state);
            if (state == "serving") return body;
            if (state == "failed") throw new InvalidOperationException($"{name} failed: {body}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{name} still {state}: {body}");
            await Task.Delay(50);
        }
    }


    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The collection sharing one <see cref="ApiHost"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiHost>
{
    /// <summary>The collection name.</summary>
    public const string Name = "api";
}
