using System.Text;
using System.Text.RegularExpressions;

namespace Cartridges.Deploy.Tests;

/// <summary>
/// A .dockerignore with Docker's matching rules (not git's): patterns are anchored at the context root, `*` and `?`
/// stop at '/', `**` crosses directories, a path is excluded when it or one of its parent directories matches, and
/// the last matching line wins (`!` re-includes).
/// </summary>
internal sealed class DockerIgnore
{
    readonly List<(Regex Pattern, bool Reinclude)> _rules = [];

    public DockerIgnore(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var reinclude = line.StartsWith('!');
            var pattern = Clean(reinclude ? line[1..].Trim() : line);
            if (pattern.Length > 0)
            {
                _rules.Add((Compile(pattern), reinclude));
            }
        }
    }

    public static DockerIgnore Load() => new(RepoFiles.Read(".dockerignore"));

    /// <summary>Whether the build context leaves out this repository-relative path.</summary>
    public bool Excludes(string path)
    {
        var parts = Clean(path).Split('/');
        var candidates = Enumerable.Range(1, parts.Length).Select(n => string.Join('/', parts.Take(n))).ToList();
        var excluded = false;
        foreach (var (pattern, reinclude) in _rules)
        {
            if (candidates.Any(pattern.IsMatch))
            {
                excluded = !reinclude;
            }
        }
        return excluded;
    }

    // As Go's filepath.Clean followed by Docker's removal of a leading '/'.
    static string Clean(string path) =>
        string.Join('/', path.Replace('\\', '/').Split('/').Where(p => p.Length > 0 && p != "."));

    static Regex Compile(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                i++;
                if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                {
                    i++;
                }
                regex.Append(i + 1 < pattern.Length ? "(.*/)?" : ".*");
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else if (c == '\\' && i + 1 < pattern.Length)
            {
                regex.Append(Regex.Escape(pattern[++i].ToString()));
            }
            else if (c is '[' or ']')
            {
                regex.Append(c);
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
