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

    /// <summary>The recipe a records model was pretrained with (stored in its weights file); null for any other model.</summary>
    public static PretrainRecipe? RecipeOf(string modelDir)
    {
        var path = Path.Combine(modelDir, "model.safetensors");
        if (!File.Exists(path)) return null;
        using var file = SafeTensorsFile.Open(path);
        return file.Metadata.GetValueOrDefault("recipe") is { Length: > 0 } json ? System.Text.Json.JsonSerializer.Deserialize<PretrainRecipe>(json) : null;
    }

    /// <summary>
    /// Documents as the model at <paramref name="modelDir"/> was trained on them — its fact kinds, facts per record and
    /// record headers, notes — in <paramref name="style"/>; the full ten-kind documents for models that do not say.
    /// <paramref name="notes"/> = true gives keyed records their free-text notes even if the model was trained without;
    /// <paramref name="extraNotes"/> gives that share of them a second note (keyed records with notes only).
    /// </summary>
    public static RecordsGenerator GeneratorFor(string modelDir, RecordSplit split, int seed, FactStyle style, bool notes = false, double extraNotes = 0)
    {
        var recipe = RecipeOf(modelDir);
        // A narrowed recipe describes documents in its own wording; another wording gets the full documents.
        return recipe is not null && recipe.Facts == style
            ? new RecordsGenerator(split, seed, style, recipe.FactsPerRecord, recipe.FactKinds, headers: !recipe.NoRecordHeaders, notes: notes || recipe.KeyedNotes, extraNotes: extraNotes)
            : new RecordsGenerator(split, seed, style, notes: notes, extraNotes: extraNotes);
    }

    /// <summary>The wording a records model declares in its weights file; null for any other model.</summary>
    public static FactStyle? DeclaredFactStyle(string modelDir)
    {
        var path = Path.Combine(modelDir, "model.safetensors");
        if (!File.Exists(path)) return null;
        using var file = SafeTensorsFile.Open(path);
        return Enum.TryParse<FactStyle>(file.Metadata.GetValueOrDefault(FactStyleKey), ignoreCase: true, out var style) ? style : null;
    }
}
