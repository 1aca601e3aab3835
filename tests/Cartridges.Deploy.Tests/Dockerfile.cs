using System.Text;
using System.Text.RegularExpressions;

namespace Cartridges.Deploy.Tests;

/// <summary>One Dockerfile instruction, continuation lines joined; Stage counts FROM lines from 0.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments, int Stage)
{
    /// <summary>The arguments split on whitespace (enough for COPY, USER, VOLUME and RUN without quoting).</summary>
    public string[] Words => Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>COPY/ADD: the sources (flags such as --from left out).</summary>
    public string[] Sources => [.. Words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).SkipLast(1)];

    /// <summary>COPY/ADD: the destination.</summary>
    public string Destination => Words[^1];
}

/// <summary>A Dockerfile read the way the builder reads it: comments dropped, continuations joined, stages numbered.</summary>
internal sealed class Dockerfile
{
    public IReadOnlyList<DockerInstruction> Instructions { get; }

    Dockerfile(IReadOnlyList<DockerInstruction> instructions) => Instructions = instructions;

    public static Dockerfile Load(string name) => Parse(RepoFiles.Read("deploy", name));

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var stage = -1;
        var current = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r', ' ', '\t');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1]).Append(' ');
                continue;
            }
            current.Append(line);
            var instruction = Regex.Replace(current.ToString(), @"\s+", " ").Trim();
            current.Clear();
            if (instruction.Length == 0)
            {
                continue;
            }
            var space = instruction.IndexOf(' ');
            var keyword = (space < 0 ? instruction : instruction[..space]).ToUpperInvariant();
            if (keyword == "FROM")
            {
                stage++;
            }
            instructions.Add(new DockerInstruction(keyword, space < 0 ? "" : instruction[(space + 1)..], stage));
        }
        return new Dockerfile(instructions);
    }

    public int FinalStage => Instructions.Max(i => i.Stage);

    /// <summary>The stage index named by `FROM ... AS name`.</summary>
    public int StageNamed(string name) =>
        Instructions.Single(i => i.Keyword == "FROM" && i.Words.Length == 3 && i.Words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) && i.Words[2] == name).Stage;

    public IEnumerable<DockerInstruction> InStage(int stage) => Instructions.Where(i => i.Stage == stage);

    /// <summary>The base images: FROM arguments that do not name an earlier stage.</summary>
    public IEnumerable<string> BaseImages
    {
        get
        {
            var stages = new HashSet<string>();
            foreach (var from in Instructions.Where(i => i.Keyword == "FROM"))
            {
                var words = from.Words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
                if (!stages.Contains(words[0]))
                {
                    yield return words[0];
                }
                if (words.Length == 3)
                {
                    stages.Add(words[2]);
                }
            }
        }
    }
}
