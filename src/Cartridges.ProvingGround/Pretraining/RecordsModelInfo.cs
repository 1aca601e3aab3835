// What a records model directory says about its own training data, so commands that build documents for it (records-eval,
// bench quality, the demo) word them as it was trained without being told.
using Cartridges.Model.Weights;
using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Reads the pretraining facts stored in a records model's weights file.</summary>
public static class RecordsModelInfo
{
    /// <summary>Metadata key of the fact wording in model.safetensors.</summary>
    public const string FactStyleKey = "fact_style";

    /// <summary>The wording the model was trained on; <paramref name="fallback"/> for models that do not say (or other models).</summary>
    public static FactStyle FactStyleOf(string modelDir, FactStyle fallback = FactStyle.Varied) => DeclaredFactStyle(modelDir) ?? fallback;

    /// <summary>The wording a records model declares in its weights file; null for any other model.</summary>
    public static FactStyle? DeclaredFactStyle(string modelDir)
    {
        var path = Path.Combine(modelDir, "model.safetensors");
        if (!File.Exists(path)) return null;
        using var file = SafeTensorsFile.Open(path);
        return Enum.TryParse<FactStyle>(file.Metadata.GetValueOrDefault(FactStyleKey), ignoreCase: true, out var style) ? style : null;
    }
}
