// Names under which the storage layer registers itself with Orleans.
namespace Cartridges.Storage;

/// <summary>Names of the grain storage providers the cluster registers.</summary>
public static class StorageNames
{
    /// <summary>The grain storage every Cartridges grain uses (<c>[PersistentState("…", StorageNames.Cartridges)]</c>).</summary>
    public const string Cartridges = "cartridges";
}
