using Cartridges.Model.Transformer;
using Cartridges.Training.Cartridges;

namespace Cartridges.Cli.Commands;

/// <summary>Loads cartridge files as serving prefixes for a model (refusing files made for another model).</summary>
internal static class CartridgeLoader
{
    public static KvPrefix[] LoadPrefixes(IReadOnlyList<string> files, TransformerModel model)
    {
        var prefixes = new List<KvPrefix>();
        try
        {
            foreach (var file in files)
            {
                var (cartridge, _) = CartridgeFile.Load(file, model.Config, model.DType, model.Device);
                using (cartridge) prefixes.Add(cartridge.ToServingPrefix());
            }
            return [.. prefixes];
        }
        catch
        {
            foreach (var p in prefixes) p.Dispose();
            throw;
        }
    }
}
