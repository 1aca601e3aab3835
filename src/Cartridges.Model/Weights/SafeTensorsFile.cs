// Memory-mapped reader for the safetensors format (8-byte LE header length, JSON header, raw data).
// Written here rather than taken from TorchSharp.PyBridge because we need the `__metadata__` map
// (cartridge files carry model identity there), lazy per-tensor reads over a mapping, and errors
// that name the file and the broken field.
using System.IO.MemoryMappedFiles;
using System.Text.Json;
using Cartridges.Model.Config;
using TorchSharp;

namespace Cartridges.Model.Weights;

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>An open safetensors file; tensors are read on demand from a memory mapping.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    const long MaxHeaderBytes = 100L * 1024 * 1024;
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly long _dataStart;

    /// <summary>The file path.</summary>
    public string Path { get; }

    /// <summary>Tensor entries by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    /// <summary>The `__metadata__` string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsFile(string path)
    {
        long length;
        Path = path;
        using (var fs = File.OpenRead(path))
        {
            // The open stream's length, not FileInfo's: in a Hugging Face cache the file is a symlink to its blob, and
            // FileInfo measures the link itself.
            length = fs.Length;
            if (length < 8) throw new ModelLoadException($"{path}: truncated safetensors file ({length} bytes, no header length).");
            Span<byte> lenBytes = stackalloc byte[8];
            fs.ReadExactly(lenBytes);
            var headerLen = BitConverter.ToInt64(lenBytes);
            if (headerLen <= 0 || headerLen > MaxHeaderBytes)
                throw new ModelLoadException($"{path}: invalid safetensors header length {headerLen}.");
            if (8 + headerLen > length)
                throw new ModelLoadException(
                    $"{path}: truncated safetensors header (needs {headerLen} bytes, file has {length - 8}).");
            var header = new byte[headerLen];
            fs.ReadExactly(header);
            _dataStart = 8 + headerLen;
            (Tensors, Metadata) = ParseHeader(path, header, length - _dataStart);
        }
        if (length > _dataStart)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
    }

    /// <summary>Opens and validates a safetensors file.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException($"Weights file not found: {path}");
        return new SafeTensorsFile(path);
    }

    static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path}: safetensors header is not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelLoadException($"{path}: safetensors header must be a JSON object.");
            var tensors = new Dictionary<string, SafeTensorInfo>();
            var metadata = new Dictionary<string, string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                tensors[prop.Name] = ParseEntry(path, prop, dataLength);
            }
            return (tensors, metadata);
        }
    }

    static SafeTensorInfo ParseEntry(string path, JsonProperty prop, long dataLength)
    {
        try
        {
            var dtype = prop.Value.GetProperty("dtype").GetString() ?? "";
            var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var offsets = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var dt = SafeTensorsDType.Parse(dtype)
                ?? throw new ModelLoadException($"{path}: tensor '{prop.Name}' has unsupported dtype '{dtype}'.");
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw new ModelLoadException($"{path}: tensor '{prop.Name}' has invalid data_offsets.");
            if (offsets[1] > dataLength)
                throw new ModelLoadException(
                    $"{path}: tensor '{prop.Name}' ends at byte {offsets[1]} but the data section has {dataLength} bytes (truncated file?).");
            var expected = shape.Aggregate(1L, (a, b) => a * b) * dt.Size;
            if (expected != offsets[1] - offsets[0])
                throw new ModelLoadException(
                    $"{path}: tensor '{prop.Name}' shape [{string.Join(", ", shape)}] {dtype} needs {expected} bytes, data_offsets give {offsets[1] - offsets[0]}.");
            return new SafeTensorInfo(prop.Name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"{path}: malformed header entry for tensor '{prop.Name}' ({e.Message}).", e);
        }
    }

    /// <summary>Reads a tensor onto the CPU, converted to the requested dtype (or its stored dtype when null).</summary>
    public unsafe torch.Tensor Read(string name, torch.ScalarType? dtype = null)
    {
        if (!Tensors.TryGetValue(name, out var info)) throw new ModelLoadException($"{Path}: tensor '{name}' not found.");
        var (stored, _) = SafeTensorsDType.Parse(info.DType)!.Value;
        var tensor = torch.empty(info.Shape, stored);
        var count = info.End - info.Begin;
        if (count > 0)
        {
            byte* basePtr = null;
            _view!.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            try
            {
                // Tensor.bytes spans the whole CPU tensor, so one tensor is limited to 2 GiB here.
                var src = new ReadOnlySpan<byte>(basePtr + _view.PointerOffset + _dataStart + info.Begin, checked((int)count));
                src.CopyTo(tensor.bytes);
            }
            finally
            {
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
        if (dtype is { } target && target != stored)
        {
            var converted = tensor.to_type(target);
            tensor.Dispose();
            return converted;
        }
        return tensor;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
    }
}
