// manifest.json of a self-study dataset directory: what the shards were made from (model, corpus, seed, settings)
// and which shards are for training and which are held out. Resuming compares it; loading trusts only it.
using System.Text.Json;
using System.Text.Json.Serialization;
using Cartridges.Training.Synthesis;

namespace Cartridges.Training.Data;

/// <summary>One shard of a dataset.</summary>
/// <param name="File">File name inside the dataset directory.</param>
/// <param name="Split">"train" or "eval" (held out: never trained on).</param>
/// <param name="Conversations">Examples in the shard.</param>
/// <param name="Sha256">SHA-256 of the file, recorded once it is written and verified (null until then).</param>
public sealed record ShardEntry(string File, string Split, int Conversations, string? Sha256 = null);

/// <summary>The description of a synthesized dataset (manifest.json).</summary>
public sealed record DatasetManifest
{
    /// <summary>The manifest file name.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The dataset format version this build writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Split name of training shards.</summary>
    public const string TrainSplit = "train";

    /// <summary>Split name of held-out shards.</summary>
    public const string EvalSplit = "eval";

    /// <summary>Always "cartridges-self-study".</summary>
    public string Format { get; init; } = "cartridges-self-study";

    /// <summary>Version of the dataset (and shard) format.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary><c>ModelConfig.ArchitectureHash()</c> of the model that synthesized it.</summary>
    public required string ModelHash { get; init; }

    /// <summary>The model's vocabulary size (token ids are checked against it).</summary>
    public int VocabSize { get; init; }

    /// <summary>Chat template family ("llama" or "qwen3") the token ids are rendered in.</summary>
    public required string TemplateFamily { get; init; }

    /// <summary>SHA-256 of the corpus text (UTF-8).</summary>
    public required string CorpusSha256 { get; init; }

    /// <summary>Tokens in the corpus.</summary>
    public int CorpusTokens { get; init; }

    /// <summary>The base seed.</summary>
    public ulong Seed { get; init; }

    /// <summary>Teacher top-k per answer token.</summary>
    public int TopK { get; init; }

    /// <summary>Total conversations planned.</summary>
    public int Conversations { get; init; }

    /// <summary>Conversations per shard (the last shard may hold fewer).</summary>
    public int ConversationsPerShard { get; init; }

    /// <summary>The self-study settings used.</summary>
    public required SelfStudyOptions Synthesis { get; init; }

    /// <summary>True once every shard is written and verified.</summary>
    public bool Complete { get; init; }

    /// <summary>All shards, in order.</summary>
    public required IReadOnlyList<ShardEntry> Shards { get; init; }

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The manifest as JSON text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads `dir/manifest.json`.</summary>
    /// <exception cref="FileNotFoundException">The directory has no manifest.</exception>
    /// <exception cref="InvalidDataException">The manifest is unreadable or of an unsupported version.</exception>
    public static DatasetManifest Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"{dir}: no {FileName}; not a synthesized dataset directory.", path);
        DatasetManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<DatasetManifest>(System.IO.File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable manifest ({e.Message}).", e);
        }
        if (manifest is null || manifest.Shards is null || manifest.Synthesis is null)
            throw new InvalidDataException($"{path}: the manifest is empty or incomplete.");
        if (manifest.FormatVersion != CurrentFormatVersion)
            throw new InvalidDataException($"{path}: dataset format version {manifest.FormatVersion} is not supported (this build reads {CurrentFormatVersion}).");
        return manifest;
    }

    /// <summary>Writes `dir/manifest.json` atomically (temporary file, then rename).</summary>
    public void Save(string dir)
    {
        var path = Path.Combine(dir, FileName);
        var temp = path + ".tmp";
        System.IO.File.WriteAllText(temp, ToJson());
        System.IO.File.Move(temp, path, overwrite: true);
    }
}
