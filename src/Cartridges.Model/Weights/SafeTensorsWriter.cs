// Writes safetensors files: 8-byte LE header length, JSON header padded to 8 bytes, raw little-endian data.
using System.Text;
using System.Text.Json;
using TorchSharp;

namespace Cartridges.Model.Weights;

/// <summary>Writes tensors (and string metadata) to a safetensors file atomically.</summary>
public static class SafeTensorsWriter
{
    /// <summary>Writes the tensors in the given order; each is stored in `storeAs` when given, else its own dtype.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, torch.ScalarType? storeAs = null)
    {
        var items = tensors.ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        var prepared = new List<torch.Tensor>(items.Count);
        long offset = 0;
        try
        {
            foreach (var (name, t) in items)
            {
                var cpu = t.detach().cpu();
                if (storeAs is { } target && cpu.is_floating_point() && cpu.dtype != target) cpu = cpu.to_type(target);
                cpu = cpu.contiguous();
                prepared.Add(cpu);
                var bytes = cpu.NumberOfElements * cpu.ElementSize;
                header[name] = new Dictionary<string, object>
                {
                    ["dtype"] = SafeTensorsDType.NameOf(cpu.dtype),
                    ["shape"] = cpu.shape,
                    ["data_offsets"] = new[] { offset, offset + bytes },
                };
                offset += bytes;
            }
            var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
            var padded = (json.Length + 7) / 8 * 8;
            var headerBytes = new byte[padded];
            Array.Fill(headerBytes, (byte)' ');
            json.CopyTo(headerBytes, 0);

            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            Directory.CreateDirectory(dir);
            var tmp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                fs.Write(BitConverter.GetBytes((long)padded));
                fs.Write(headerBytes);
                foreach (var t in prepared) WriteData(fs, t);
                fs.Flush(true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            foreach (var t in prepared) t.Dispose();
        }
    }

    static void WriteData(Stream stream, torch.Tensor t)
    {
        if (t.NumberOfElements > 0) stream.Write(t.bytes);
    }
}
