namespace Cartridges.Deploy.Tests;

/// <summary>Finds files of the repository from the test binaries.</summary>
internal static class RepoFiles
{
    public static string Root { get; } = Find();

    static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cartridges.Cluster.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Repository root not found above the test binaries.");
    }

    public static string Read(params string[] parts) => File.ReadAllText(Path.Combine([Root, .. parts]));
}
