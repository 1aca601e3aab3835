using TorchSharp;

namespace Cartridges.Model.Weights;

/// <summary>Maps safetensors dtype names to TorchSharp scalar types and element sizes.</summary>
public static class SafeTensorsDType
{
    static readonly (string Name, torch.ScalarType Type, int Size)[] Table =
    [
        ("F32", torch.ScalarType.Float32, 4),
        ("BF16", torch.ScalarType.BFloat16, 2),
        ("F16", torch.ScalarType.Float16, 2),
        ("F64", torch.ScalarType.Float64, 8),
        ("I64", torch.ScalarType.Int64, 8),
        ("I32", torch.ScalarType.Int32, 4),
        ("I16", torch.ScalarType.Int16, 2),
        ("I8", torch.ScalarType.Int8, 1),
        ("U8", torch.ScalarType.Byte, 1),
        ("BOOL", torch.ScalarType.Bool, 1),
    ];

    /// <summary>The scalar type and element size for a safetensors dtype name, or null if unknown.</summary>
    public static (torch.ScalarType Type, int Size)? Parse(string name)
    {
        foreach (var row in Table) if (row.Name == name) return (row.Type, row.Size);
        return null;
    }

    /// <summary>The safetensors dtype name of a scalar type.</summary>
    public static string NameOf(torch.ScalarType type)
    {
        foreach (var row in Table) if (row.Type == type) return row.Name;
        throw new NotSupportedException($"safetensors cannot store dtype {type}.");
    }

    /// <summary>Parses a user-facing dtype name (f32, bf16, f16).</summary>
    public static torch.ScalarType ParseUser(string name) => name.ToLowerInvariant() switch
    {
        "f32" or "float32" or "fp32" => torch.ScalarType.Float32,
        "bf16" or "bfloat16" => torch.ScalarType.BFloat16,
        "f16" or "float16" or "fp16" => torch.ScalarType.Float16,
        _ => throw new ArgumentException($"Unknown dtype '{name}'; use f32, bf16 or f16."),
    };
}
