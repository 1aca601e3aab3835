// Reads the shard format written by ShardWriter. The checksum is verified before anything is parsed, and every
// length is bounds-checked, so a truncated, modified or foreign file fails with an error that names it.
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cartridges.Training.Data;

/// <summary>The decoded content of one shard.</summary>
public sealed record Shard(int K, IReadOnlyList<TrainingExample> Examples);

/// <summary>Decodes and validates shards.</summary>
public static class ShardReader
{
    /// <summary>Reads and validates a shard file.</summary>
    /// <exception cref="InvalidDataException">The file is not a shard, is corrupt or truncated; the message names it.</exception>
    public static Shard ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: shard file not found.", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Decodes shard bytes; `source` names them in errors.</summary>
    public static Shard Decode(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < ShardWriter.HeaderBytes + ShardWriter.TrailerBytes)
            throw new InvalidDataException($"{source}: corrupt shard: only {bytes.Length} bytes, shorter than an empty shard (truncated?).");
        if (!bytes[..ShardWriter.Magic.Length].SequenceEqual(ShardWriter.Magic))
            throw new InvalidDataException($"{source}: not a self-study shard (bad magic bytes).");
        var body = bytes[..^ShardWriter.TrailerBytes];
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        if (!hash.SequenceEqual(bytes[^ShardWriter.TrailerBytes..]))
            throw new InvalidDataException($"{source}: corrupt shard: SHA-256 mismatch (the file was truncated or modified).");

        var r = new SpanReader(body, source);
        r.Skip(ShardWriter.Magic.Length);
        var version = r.Int();
        if (version != ShardWriter.FormatVersion)
            throw new InvalidDataException($"{source}: shard format version {version} is not supported (this build reads {ShardWriter.FormatVersion}).");
        var k = r.Int();
        var count = r.Int();
        if (k < 1 || count < 0) throw new InvalidDataException($"{source}: corrupt shard header (k {k}, count {count}).");
        var examples = new TrainingExample[count];
        for (var e = 0; e < count; e++)
        {
            var n = r.Int();
            var m = r.Int();
            if (n < 1 || m < 0 || m > n) throw new InvalidDataException($"{source}: example {e}: corrupt lengths ({n} tokens, {m} loss tokens).");
            var tokens = r.Ints(n);
            var maskBytes = r.Take((n + 7) / 8);
            var mask = new bool[n];
            for (var i = 0; i < n; i++) mask[i] = (maskBytes[i >> 3] & (1 << (i & 7))) != 0;
            var ids = new int[m][];
            var logProbs = new float[m][];
            for (var i = 0; i < m; i++) ids[i] = r.Ints(k);
            for (var i = 0; i < m; i++) logProbs[i] = r.Floats(k);
            examples[e] = new TrainingExample(tokens, mask, ids, logProbs);
            examples[e].Validate($"{source}: example {e}");
        }
        if (!r.AtEnd) throw new InvalidDataException($"{source}: corrupt shard: unexpected bytes after example {count - 1}.");
        return new Shard(k, examples);
    }

    ref struct SpanReader(ReadOnlySpan<byte> buffer, string source)
    {
        readonly ReadOnlySpan<byte> _buffer = buffer;
        int _position;

        public readonly bool AtEnd => _position == _buffer.Length;

        public ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || n > _buffer.Length - _position)
                throw new InvalidDataException($"{source}: corrupt shard: a record runs past the end of the file (truncated?).");
            var s = _buffer.Slice(_position, (int)n);
            _position += (int)n;
            return s;
        }

        public void Skip(int n) => Take(n);
        public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public int[] Ints(int n)
        {
            var s = Take(4L * n);
            var v = new int[n];
            for (var i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]);
            return v;
        }

        public float[] Floats(int n)
        {
            var s = Take(4L * n);
            var v = new float[n];
            for (var i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(s[(4 * i)..]);
            return v;
        }
    }
}
