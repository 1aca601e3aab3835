using System.Text.Json;
using Cartridges.Model.Config;

namespace Cartridges.Training.Cartridges;

/// <summary>What a cartridge file says about itself (safetensors `__metadata__`, all strings).</summary>
public sealed record CartridgeMetadata
{
    /// <summary>Format tag and version.</summary>
    public const string FormatName = "cartridges.cartridge/1";

    /// <summary>Model identity (e.g. directory name or HF id) the cartridge was trained for.</summary>
    public required string Model { get; init; }

    /// <summary>ModelConfig.ArchitectureHash() of that model; loading checks it.</summary>
    public required string ConfigHash { get; init; }

    /// <summary>Cartridge tokens p.</summary>
    public required int Tokens { get; init; }

    /// <summary>Frozen leading tokens.</summary>
    public required int Frozen { get; init; }

    /// <summary>Stored dtype (f32, bf16, f16).</summary>
    public string DType { get; init; } = "f32";

    /// <summary>Free-form training summary (JSON), e.g. steps, loss, corpus hash.</summary>
    public string Training { get; init; } = "{}";

    /// <summary>Metadata for a cartridge made for a model.</summary>
    public static CartridgeMetadata For(string model, ModelConfig config, Cartridge c, string dtype = "f32", object? training = null) => new()
    {
        Model = model,
        ConfigHash = config.ArchitectureHash(),
        Tokens = c.Length,
        Frozen = c.Frozen,
        DType = dtype,
        Training = training is null ? "{}" : JsonSerializer.Serialize(training),
    };

    /// <summary>As the safetensors metadata map.</summary>
    public Dictionary<string, string> ToDictionary() => new()
    {
        ["format"] = FormatName,
        ["model"] = Model,
        ["config_hash"] = ConfigHash,
        ["tokens"] = Tokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["frozen"] = Frozen.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["dtype"] = DType,
        ["training"] = Training,
    };

    /// <summary>Parses the metadata map, naming the missing or bad field.</summary>
    public static CartridgeMetadata Parse(IReadOnlyDictionary<string, string> m, string source)
    {
        string Get(string key) => m.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{source}: cartridge metadata lacks '{key}'.");
        int Int(string key) => int.TryParse(Get(key), out var v) ? v : throw new InvalidDataException($"{source}: cartridge metadata '{key}' is not an integer.");
        if (Get("format") != FormatName) throw new InvalidDataException($"{source}: not a cartridge file (format '{Get("format")}', expected '{FormatName}').");
        return new CartridgeMetadata
        {
            Model = Get("model"),
            ConfigHash = Get("config_hash"),
            Tokens = Int("tokens"),
            Frozen = Int("frozen"),
            DType = Get("dtype"),
            Training = m.TryGetValue("training", out var t) ? t : "{}",
        };
    }
}
