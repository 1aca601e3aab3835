// Parses and validates `owner/name[@revision]`. The parts end up in cache folder names and URLs,
// so anything that could escape the cache (`..`, separators, `--`) is rejected here, once.
using System.Text.RegularExpressions;

namespace Cartridges.Model.Hub;

/// <summary>A Hugging Face model repository id with the revision to resolve (default `main`).</summary>
sealed partial record HubRepoId(string Owner, string Name, string Revision)
{
    /// <summary>The revision used when the id names none.</summary>
    public const string DefaultRevision = "main";

    // The hub's own limits (huggingface_hub validate_repo_id): word chars, '-', '.', at most 96 chars.
    const int MaxNameLength = 96;
    const int MaxRevisionLength = 255;

    /// <summary>`owner/name`, as used in hub URLs.</summary>
    public string RepoPath => $"{Owner}/{Name}";

    /// <summary>The cache folder name, `models--owner--name`.</summary>
    public string CacheFolderName => $"models--{Owner}--{Name}";

    /// <summary>True when the revision is a full commit hash, so it needs no ref lookup.</summary>
    public bool RevisionIsCommit => IsCommitHash(Revision);

    /// <summary>Parses `owner/name` or `owner/name@revision`, throwing ArgumentException with the reason.</summary>
    public static HubRepoId Parse(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        var at = value.IndexOf('@');
        var repo = at < 0 ? value : value[..at];
        var revision = at < 0 ? DefaultRevision : value[(at + 1)..];
        var parts = repo.Split('/');
        if (parts.Length != 2)
            throw Invalid(value, "expected `owner/name` or `owner/name@revision`");
        ValidateName(value, parts[0], "owner");
        ValidateName(value, parts[1], "name");
        ValidateRevision(value, revision);
        return new HubRepoId(parts[0], parts[1], revision);
    }

    /// <summary>True for a 40-hex-digit git commit hash.</summary>
    public static bool IsCommitHash(string value) => CommitHash().IsMatch(value);

    public override string ToString() => Revision == DefaultRevision ? RepoPath : $"{RepoPath}@{Revision}";

    static void ValidateName(string id, string part, string what)
    {
        if (part.Length == 0)
            throw Invalid(id, $"the {what} is empty");
        if (part.Length > MaxNameLength)
            throw Invalid(id, $"the {what} is longer than {MaxNameLength} characters");
        if (!NamePart().IsMatch(part))
            throw Invalid(id, $"the {what} `{part}` may only contain letters, digits, '-', '_' and '.'");
        // `..` would walk out of the cache; `--` would make `models--a--b` ambiguous.
        if (part.Contains("..") || part.Contains("--"))
            throw Invalid(id, $"the {what} `{part}` contains `..` or `--`");
        if (part.StartsWith('.') || part.EndsWith('.') || part.StartsWith('-') || part.EndsWith('-'))
            throw Invalid(id, $"the {what} `{part}` starts or ends with '.' or '-'");
        if (part.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
            throw Invalid(id, $"the {what} `{part}` ends with `.git`");
    }

    static void ValidateRevision(string id, string revision)
    {
        // Branch names may contain '/' (e.g. `refs/pr/1`); each segment must still be a plain name.
        if (revision.Length is 0 or > MaxRevisionLength)
            throw Invalid(id, $"the revision must be 1 to {MaxRevisionLength} characters");
        if (revision.Contains(".."))
            throw Invalid(id, $"the revision `{revision}` contains `..`");
        foreach (var segment in revision.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".." || !RevisionSegment().IsMatch(segment))
                throw Invalid(id, $"the revision `{revision}` is not a valid branch, tag or commit");
        }
    }

    static ArgumentException Invalid(string id, string reason) =>
        new($"`{id}` is not a valid Hugging Face model id (owner/name[@revision]): {reason}.");

    [GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial Regex NamePart();

    [GeneratedRegex("^[A-Za-z0-9_.+-]+$")]
    private static partial Regex RevisionSegment();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();
}
