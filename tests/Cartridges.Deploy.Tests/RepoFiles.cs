using System.Xml.Linq;

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

    /// <summary>A path relative to the repository root, with '/' separators.</summary>
    public static string Relative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace('\\', '/');

    /// <summary>Every file under a repository folder, leaving out build outputs (bin/, obj/).</summary>
    public static IEnumerable<string> SourceFiles(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Root, folder), "*", SearchOption.AllDirectories)
            .Select(Relative)
            .Where(f => !f.Split('/').Any(part => part is "bin" or "obj"));
}

/// <summary>The projects as MSBuild sees them: references and the files items pull in from outside a project.</summary>
internal static class ProjectGraph
{
    static XDocument Load(string project) => XDocument.Load(Path.Combine(RepoFiles.Root, project));

    static string Resolve(string project, string include) =>
        RepoFiles.Relative(Path.GetFullPath(Path.Combine(RepoFiles.Root, Path.GetDirectoryName(project)!, include.Replace('\\', '/'))));

    public static IEnumerable<string> References(string project) =>
        Load(project).Descendants()
            .Where(e => e.Name.LocalName == "ProjectReference")
            .Select(e => Resolve(project, (string)e.Attribute("Include")!));

    /// <summary>The project and every project it references, directly or not (repository-relative .csproj paths).</summary>
    public static IReadOnlySet<string> Closure(string project)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var next))
        {
            if (seen.Add(next))
            {
                foreach (var reference in References(next)) pending.Push(reference);
            }
        }
        return seen;
    }

    /// <summary>Files outside the project's folder that its items include (embedded resources, linked files).</summary>
    public static IEnumerable<string> OutsideFiles(string project)
    {
        var includes = Load(project).Descendants()
            .Where(e => e.Name.LocalName != "ProjectReference" && e.Attribute("Include") is not null)
            .SelectMany(e => ((string)e.Attribute("Include")!).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(i => i.StartsWith("..", StringComparison.Ordinal));
        foreach (var include in includes)
        {
            var path = Resolve(project, include);
            var name = Path.GetFileName(path);
            var folder = Path.Combine(RepoFiles.Root, Path.GetDirectoryName(path)!);
            var files = name.Contains('*') ? Directory.GetFiles(folder, name) : [Path.Combine(folder, name)];
            foreach (var file in files) yield return RepoFiles.Relative(file);
        }
    }
}
