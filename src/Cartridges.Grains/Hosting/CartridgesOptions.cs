// Bound from the "Cartridges" configuration section (appsettings or CARTRIDGES__* environment variables).
namespace Cartridges.Grains.Hosting;

/// <summary>Per-silo settings: which base models it can run, where it keeps scratch files, what accelerator it has.</summary>
public sealed class CartridgesOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Cartridges";

    /// <summary>Base model name → model directory or Hugging Face id.</summary>
    public Dictionary<string, string> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The model used when a spec says "default".</summary>
    public string DefaultModel { get; set; } = "default";

    /// <summary>Local scratch directory (datasets and checkpoints being worked on; the durable copies are blobs).</summary>
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "cartridges-work");

    /// <summary>Torch device for engines on this silo (cpu, cuda, cuda:N, auto).</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Most sequences an engine decodes together.</summary>
    public int MaxBatch { get; set; } = 64;

    /// <summary>
    /// Most bytes of cartridge tensors a silo keeps resident (Cartridges:ResidentBudgetBytes; 0 = no limit). Past it, the
    /// least recently asked cartridges that no request is using are dropped, and reloaded from the blob store on their
    /// next question.
    /// </summary>
    public long ResidentBudgetBytes { get; set; }

    /// <summary>
    /// Most bytes of each model's paged KV cache (Cartridges:KvCacheBytes; 0 = grows as needed). At the limit, questions
    /// wait for blocks and running answers are preempted newest-first and recomputed, with the same output.
    /// </summary>
    public long KvCacheBytes { get; set; }

    /// <summary>
    /// Conversations per training micro-batch (Cartridges:TrainingMicroBatchSize, default 2): each is one work item that
    /// decoding waits for, so smaller keeps questions fast while a cartridge trains on the silo; larger batches better on
    /// a GPU. An interrupted cartridge resumes with the size it started with.
    /// </summary>
    public int TrainingMicroBatchSize { get; set; } = 2;

    /// <summary>Period of the reminder that resumes interrupted generating/training after a crash.</summary>
    public TimeSpan ResumeReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the silo collects dead silos' work directories and unreferenced blobs (zero turns it off).</summary>
    public TimeSpan CollectionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Blobs stored (or put again) within this time are never collected: their state write may still be coming.</summary>
    public TimeSpan CollectionGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often placement statistics are refreshed from the accelerator silos.</summary>
    public TimeSpan StatsRefresh { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Ceilings on every cartridge's budgets (Cartridges:Limits:*), checked at create.</summary>
    public Abstractions.BudgetLimits Limits { get; set; } = new();

    /// <summary>Resolves a spec's base model name to a directory or hub id; throws a clear error for an unknown one.</summary>
    public string ResolveModel(string name)
    {
        var key = name == "default" ? DefaultModel : name;
        if (Models.TryGetValue(key, out var location)) return location;
        if (name == "default" && Models.Count == 1) return Models.Values.Single();
        throw new ArgumentException(Models.Count == 0
            ? $"Base model '{name}' is unknown: this silo has no models configured (Cartridges:Models)."
            : $"Base model '{name}' is unknown; configured models: {string.Join(", ", Models.Keys.Order())}.");
    }

    /// <summary>The canonical name of a spec's base model ("default" resolves to the configured default).</summary>
    public string CanonicalModelName(string name) => name == "default" && Models.Count == 1 && !Models.ContainsKey(DefaultModel)
        ? Models.Keys.Single()
        : name == "default" ? DefaultModel : name;
}
