// The self-study dataset's shard format (method §3.4: token ids, loss tokens, the teacher's top-k ids and fp32
// log-probs). Little-endian, versioned, and sealed by a trailing SHA-256 of everything before it, so any flipped
// or missing byte is caught before a trainer reads garbage:
//
//   magic "CTSHARD1" (8 bytes) | version int32 | k int32 | count int32
//   count × example: n int32 | m int32 | tokens int32[n] | loss mask bits uint8[ceil(n/8)] (LSB first)
//                    | top-k ids int32[m·k] | top-k log-probs float32[m·k]      (m = loss tokens)
//   SHA-256 of all bytes above (32 bytes)
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cartridges.Training.Data;

/// <summary>Encodes training examples as one shard.</summary>
public static class ShardWriter
{
    /// <summary>The 8 bytes every shard starts with.</summary>
    public static ReadOnlySpan<byte> Magic => "CTSHARD1"u8;

    /// <summary>The format version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Bytes before the first example.</summary>
    public const int HeaderBytes = 20;

    /// <summary>Bytes of the trailing checksum.</summary>
    public const int TrailerBytes = 32;

    /// <summary>The shard bytes for `examples`, each with top-k rows of exactly `k` entries.</summary>
    /// <exception cref="ArgumentException">An example is inconsistent or has rows of another length.</exception>
    public static byte[] Encode(int k, IReadOnlyList<TrainingExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "k must be >= 1");
        long size = HeaderBytes + TrailerBytes;
        for (var e = 0; e < examples.Count; e++)
        {
            var x = examples[e];
            try
            {
                x.Validate($"example {e}");
            }
            catch (InvalidDataException error)
            {
                throw new ArgumentException(error.Message, nameof(examples), error);
            }
            if (x.TopKIds.Any(r => r.Length != k)) throw new ArgumentException($"example {e}: every top-k row must have {k} entries.", nameof(examples));
            size += 8 + 4L * x.Tokens.Length + (x.Tokens.Length + 7) / 8 + 8L * k * x.TopKIds.Length;
        }
        if (size > Array.MaxLength) throw new ArgumentException($"A shard of {size} bytes is too large; use fewer conversations per shard.");

        var bytes = new byte[size];
        var w = new SpanWriter(bytes);
        w.Bytes(Magic);
        w.Int(FormatVersion);
        w.Int(k);
        w.Int(examples.Count);
        foreach (var x in examples)
        {
            w.Int(x.Tokens.Length);
            w.Int(x.TopKIds.Length);
            foreach (var t in x.Tokens) w.Int(t);
            var mask = w.Take((x.Tokens.Length + 7) / 8);
            for (var i = 0; i < x.LossMask.Length; i++)
            {
                if (x.LossMask[i]) mask[i >> 3] |= (byte)(1 << (i & 7));
            }
            foreach (var row in x.TopKIds)
            {
                foreach (var id in row) w.Int(id);
            }
            foreach (var row in x.TopKLogProbs)
            {
                foreach (var lp in row) w.Float(lp);
            }
        }
        SHA256.HashData(bytes.AsSpan(0, w.Position), w.Take(TrailerBytes));
        return bytes;
    }

    /// <summary>Writes a shard file (callers wanting atomicity write to a temporary name and rename).</summary>
    public static void WriteFile(string path, int k, IReadOnlyList<TrainingExample> examples) => File.WriteAllBytes(path, Encode(k, examples));

    ref struct SpanWriter(Span<byte> buffer)
    {
        readonly Span<byte> _buffer = buffer;
        public int Position { get; private set; }

        public Span<byte> Take(int n)
        {
            var s = _buffer.Slice(Position, n);
            Position += n;
            return s;
        }

        public void Bytes(ReadOnlySpan<byte> b) => b.CopyTo(Take(b.Length));
        public void Int(int v) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), v);
        public void Float(float v) => BinaryPrimitives.WriteSingleLittleEndian(Take(4), v);
    }
}
