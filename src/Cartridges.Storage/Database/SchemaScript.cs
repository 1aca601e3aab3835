// One numbered schema script from deploy/sql, identified by name and content hash.
using System.Security.Cryptography;
using System.Text;

namespace Cartridges.Storage.Database;

/// <summary>A schema script: its file name (which orders it) and its SQL.</summary>
public sealed record SchemaScript(string Name, string Sql)
{
    /// <summary>SHA-256 of the SQL with line endings normalised, so a CRLF checkout hashes like an LF one.</summary>
    /// <remarks>Computed on access so that <c>with { Sql = … }</c> copies cannot carry a stale hash.</remarks>
    public string Sha256 => Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(Sql.Replace("\r\n", "\n", StringComparison.Ordinal))));

    /// <summary>The scripts of deploy/sql embedded in this assembly, in name order.</summary>
    public static IReadOnlyList<SchemaScript> Embedded()
    {
        var assembly = typeof(SchemaScript).Assembly;
        const string Prefix = "Cartridges.Storage.Sql.";
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            scripts.Add(new SchemaScript(resource[Prefix.Length..], reader.ReadToEnd()));
        }

        scripts.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return scripts;
    }
}
