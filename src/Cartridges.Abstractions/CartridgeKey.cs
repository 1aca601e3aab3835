// Keys are "tenant/name" and end up in file names, SQL rows and URLs, so both parts are restricted to a small,
// path-safe alphabet: no dots at the start, no slashes, no traversal.
using System.Text.RegularExpressions;

namespace Cartridges.Abstractions;

/// <summary>Builds and validates cartridge grain keys of the form <c>tenant/name</c>.</summary>
public static partial class CartridgeKey
{
    /// <summary>Most characters in a tenant or cartridge name.</summary>
    public const int MaxPartLength = 64;

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*(\\.[a-z0-9_-]+)*$")]
    private static partial Regex PartPattern();

    /// <summary>The key of cartridge <paramref name="name"/> of <paramref name="tenant"/>; throws when either part is invalid.</summary>
    public static string Of(string tenant, string name)
    {
        Validate(tenant, "tenant");
        Validate(name, "cartridge name");
        return $"{tenant}/{name}";
    }

    /// <summary>Splits and validates a key.</summary>
    public static (string Tenant, string Name) Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/');
        if (slash < 0) throw new ArgumentException($"Cartridge key '{key}' must look like tenant/name.", nameof(key));
        var (tenant, name) = (key[..slash], key[(slash + 1)..]);
        Validate(tenant, "tenant");
        Validate(name, "cartridge name");
        return (tenant, name);
    }

    /// <summary>Why <paramref name="part"/> is not a valid tenant or cartridge name, or null when it is.</summary>
    public static string? Problem(string? part, string what)
    {
        if (string.IsNullOrEmpty(part)) return $"The {what} is empty.";
        if (part.Length > MaxPartLength) return $"The {what} '{part[..16]}…' is longer than {MaxPartLength} characters.";
        if (!PartPattern().IsMatch(part))
            return $"The {what} '{part}' may use only lowercase letters, digits, '-', '_' and inner dots, starting with a letter or digit.";
        return null;
    }

    static void Validate(string part, string what)
    {
        if (Problem(part, what) is { } problem) throw new ArgumentException(problem);
    }
}
