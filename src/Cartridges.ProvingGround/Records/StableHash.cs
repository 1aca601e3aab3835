// Seeds derived from names and numbers with FNV-1a, because string.GetHashCode is randomised per process and
// generated data must be identical across runs and machines.
using System.Text;

namespace Cartridges.ProvingGround.Records;

/// <summary>A process-independent 31-bit hash of a tuple of values, used as a Random seed.</summary>
public static class StableHash
{
    /// <summary>Hash of the values' invariant string forms, separated so ("a","bc") differs from ("ab","c").</summary>
    public static int Of(params object[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var h = 14695981039346656037UL;
        foreach (var part in parts)
        {
            var s = Convert.ToString(part, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            foreach (var b in Encoding.UTF8.GetBytes(s + "\u001f"))
            {
                h ^= b;
                h *= 1099511628211UL;
            }
        }
        return (int)((h ^ (h >> 31)) & 0x7FFFFFFF);
    }
}
