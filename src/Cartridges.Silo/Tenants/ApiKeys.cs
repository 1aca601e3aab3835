// API keys are 256-bit random secrets shown once; stores keep only their SHA-256, so a leaked store does not leak
// keys. A plain (unsalted) hash is enough here because the keys are high-entropy, not user-chosen passwords.
using System.Security.Cryptography;
using System.Text;

namespace Cartridges.Silo.Tenants;

/// <summary>Makes new API keys and hashes presented ones.</summary>
public static class ApiKeys
{
    /// <summary>Prefix of every key, so keys are recognisable in logs and secret scanners.</summary>
    public const string Prefix = "ck-";

    /// <summary>A fresh random key.</summary>
    public static string NewKey() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The lowercase hex SHA-256 of <paramref name="key"/>, as stored.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
