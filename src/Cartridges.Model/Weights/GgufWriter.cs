// A minimal GGUF v3 writer (F32 tensors only), written from the GGUF spec (ggml docs/gguf.md): no served .NET
// package writes GGUF, and llama.cpp (the reference the runtime is compared with) reads only GGUF.
using System.Runtime.InteropServices;
using System.Text;

namespace Cartridges.Model.Weights;

/// <summary>Collects metadata and F32 tensors, then writes one GGUF v3 file.</summary>
public sealed class GgufWriter
{
    /// <summary>gguf_type values of the spec.</summary>
    enum ValueType : uint
    {
        UInt32 = 4,
        Int32 = 5,
        Float32 = 6,
        Bool = 7,
        String = 8,
        Array = 9,
    }

    const uint GgmlTypeF32 = 0;
    const uint Version = 3;

    readonly List<(string Key, Action<BinaryWriter> Write)> _metadata = [];
    readonly List<(string Name, long[] Ne, float[] Data)> _tensors = [];

    /// <summary>Alignment of the tensor data (written as general.alignment).</summary>
    public uint Alignment { get; }

    /// <summary>An empty file with the given data alignment.</summary>
    public GgufWriter(uint alignment = 32)
    {
        Alignment = alignment;
        AddUInt32("general.alignment", alignment);
    }

    /// <summary>Adds a metadata entry.</summary>
    public void AddUInt32(string key, uint value) => Add(key, w => { w.Write((uint)ValueType.UInt32); w.Write(value); });

    /// <summary>Adds a metadata entry.</summary>
    public void AddInt32(string key, int value) => Add(key, w => { w.Write((uint)ValueType.Int32); w.Write(value); });

    /// <summary>Adds a metadata entry.</summary>
    public void AddFloat32(string key, float value) => Add(key, w => { w.Write((uint)ValueType.Float32); w.Write(value); });

    /// <summary>Adds a metadata entry.</summary>
    public void AddBool(string key, bool value) => Add(key, w => { w.Write((uint)ValueType.Bool); w.Write((byte)(value ? 1 : 0)); });

    /// <summary>Adds a metadata entry.</summary>
    public void AddString(string key, string value) => Add(key, w => { w.Write((uint)ValueType.String); WriteString(w, value); });

    /// <summary>Adds a metadata entry.</summary>
    public void AddStringArray(string key, IReadOnlyList<string> values) => Add(key, w =>
    {
        WriteArrayHeader(w, ValueType.String, values.Count);
        foreach (var v in values) WriteString(w, v);
    });

    /// <summary>Adds a metadata entry.</summary>
    public void AddFloat32Array(string key, IReadOnlyList<float> values) => Add(key, w =>
    {
        WriteArrayHeader(w, ValueType.Float32, values.Count);
        foreach (var v in values) w.Write(v);
    });

    /// <summary>Adds a metadata entry.</summary>
    public void AddInt32Array(string key, IReadOnlyList<int> values) => Add(key, w =>
    {
        WriteArrayHeader(w, ValueType.Int32, values.Count);
        foreach (var v in values) w.Write(v);
    });

    /// <summary>Adds an F32 tensor given its PyTorch (row-major, outermost first) shape; GGUF stores the dims reversed.</summary>
    public void AddTensor(string name, long[] torchShape, float[] data)
    {
        if (Encoding.UTF8.GetByteCount(name) >= 64) throw new ArgumentException($"GGUF tensor name '{name}' is too long.");
        if (torchShape.Aggregate(1L, (a, b) => a * b) != data.Length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", torchShape)}] does not hold {data.Length} values.");
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"Duplicate tensor '{name}'.");
        _tensors.Add((name, torchShape.Reverse().ToArray(), data));
    }

    void Add(string key, Action<BinaryWriter> write)
    {
        if (_metadata.Any(m => m.Key == key)) throw new ArgumentException($"Duplicate metadata key '{key}'.");
        _metadata.Add((key, write));
    }

    static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    static void WriteArrayHeader(BinaryWriter w, ValueType elementType, int count)
    {
        w.Write((uint)ValueType.Array);
        w.Write((uint)elementType);
        w.Write((ulong)count);
    }

    long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    void Pad(BinaryWriter w)
    {
        var pos = w.BaseStream.Position;
        for (var i = pos; i < Align(pos); i++) w.Write((byte)0);
    }

    /// <summary>Header, metadata, tensor infos, padding, then the aligned tensor data (all little-endian).</summary>
    public void Write(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The GGUF writer assumes a little-endian host.");
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: false);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, write) in _metadata)
        {
            WriteString(w, key);
            write(w);
        }
        long offset = 0;
        foreach (var (name, ne, data) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)ne.Length);
            foreach (var n in ne) w.Write((ulong)n);
            w.Write(GgmlTypeF32);
            w.Write((ulong)offset);
            offset = Align(offset + 4L * data.Length);
        }
        Pad(w);
        var dataStart = stream.Position;
        foreach (var (_, _, data) in _tensors)
        {
            w.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            Pad(w);
        }
        if (stream.Position - dataStart != offset) throw new InvalidOperationException("GGUF tensor data size does not match the offsets written.");
    }
}
