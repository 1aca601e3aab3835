// The files that make a loadable model, and how to tell whether a snapshot has all of them.
// Weights are either one model.safetensors or an index whose weight_map names the shards.
using System.Text.Json;

namespace Cartridges.Model.Hub;

/// <summary>Names of the files a model needs and the shard list of a safetensors index.</summary>
static class ModelFiles
{
    public const string Config = "config.json";
    public const string GenerationConfig = "generation_config.json";
    public const string SingleWeights = "model.safetensors";
    public const string WeightsIndex = "model.safetensors.index.json";

    /// <summary>Files every model needs besides its weights; config.json first since it pins the commit.</summary>
    public static readonly string[] Required = [Config, "tokenizer.json", "tokenizer_config.json"];

    /// <summary>The distinct shard files named by an index's weight_map, validated as repo-relative paths.</summary>
    public static IReadOnlyList<string> ShardNames(string indexPath)
    {
        try
        {
            using var stream = File.OpenRead(indexPath);
            using var json = JsonDocument.Parse(stream);
            if (!json.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new HubException($"{indexPath} has no `weight_map` object.");
            var shards = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.GetString()
                    ?? throw new HubException($"{indexPath}: weight_map entry `{entry.Name}` is not a file name.");
                shards.Add(HubCache.CheckRepoFileName(shard));
            }
            if (shards.Count == 0)
                throw new HubException($"{indexPath} names no shards in its weight_map.");
            return [.. shards];
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new HubException($"{indexPath} is not a valid safetensors index: {e.Message}", inner: e);
        }
    }

    /// <summary>The files a snapshot still lacks (empty when the model is complete).</summary>
    public static IReadOnlyList<string> Missing(HubCache cache, string commit)
    {
        var missing = Required.Where(f => !cache.HasFile(commit, f)).ToList();
        if (cache.HasFile(commit, SingleWeights))
            return missing;
        if (!cache.HasFile(commit, WeightsIndex))
        {
            missing.Add($"{SingleWeights} (or {WeightsIndex})");
            return missing;
        }
        missing.AddRange(ShardNames(cache.FilePath(commit, WeightsIndex)).Where(s => !cache.HasFile(commit, s)));
        return missing;
    }
}
