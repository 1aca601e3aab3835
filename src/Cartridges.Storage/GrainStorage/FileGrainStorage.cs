// Orleans grain storage on the local file system for the Local (single machine) profile.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cartridges.Storage.Blobs;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Cartridges.Storage.GrainStorage;

/// <summary>One file per grain state, replaced atomically, with the version number as ETag.</summary>
/// <remarks>
/// Semantics follow the ADO.NET provider: the first write needs no ETag, later ones the current version; clearing
/// keeps a tombstone whose version keeps counting, so a writer holding a pre-clear ETag still conflicts.
/// Meant for one silo per directory: the version check is atomic within this process only.
/// </remarks>
public sealed class FileGrainStorage : IGrainStorage
{
    private const string Magic = "cartridges-grain-state/1";
    private static readonly byte[] NoPayload = [];
    private readonly string _directory;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider? _activators;
    private readonly SemaphoreSlim[] _locks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>Stores states under <paramref name="directory"/> (created if missing) using <paramref name="serializer"/>.</summary>
    public FileGrainStorage(string directory, IGrainStorageSerializer serializer, IActivatorProvider? activators = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(serializer);
        _directory = Path.GetFullPath(directory);
        _serializer = serializer;
        _activators = activators;
        Directory.CreateDirectory(_directory);
    }

    /// <summary>The directory holding the state files.</summary>
    public string DirectoryPath => _directory;

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        var stored = await ReadFileAsync(path).ConfigureAwait(false);
        if (stored is null)
        {
            grainState.State = Create<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        grainState.State = stored.Value.Payload is { } payload ? _serializer.Deserialize<T>(new BinaryData(payload)) : Create<T>();
        grainState.ETag = stored.Value.Version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = stored.Value.Payload is not null;
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var gate = LockFor(path);
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var stored = await ReadFileAsync(path).ConfigureAwait(false);
            var version = CheckVersion("Write", stateName, grainId, stored, grainState.ETag) + 1;
            await WriteFileAsync(path, version, payload).ConfigureAwait(false);
            grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        var gate = LockFor(path);
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var stored = await ReadFileAsync(path).ConfigureAwait(false);
            if (stored is null && grainState.ETag is null)
            {
                // Nothing was ever written: clearing is a no-op, as with the ADO.NET provider.
                grainState.State = Create<T>();
                grainState.RecordExists = false;
                return;
            }

            var version = CheckVersion("Clear", stateName, grainId, stored, grainState.ETag) + 1;
            await WriteFileAsync(path, version, payload: null).ConfigureAwait(false);
            grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = false;
            grainState.State = Create<T>();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The file for a state: a readable but escaped prefix for people, plus a hash of the exact (state, grain) pair
    /// that makes the name unique whatever characters or length the grain key has.
    /// </summary>
    internal string PathFor(string stateName, GrainId grainId)
    {
        var id = grainId.ToString();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stateName + "\0" + id)))[..32];
        return Path.Combine(_directory, $"{Escape(stateName, 40)}.{Escape(id, 100)}.{hash}.state");
    }

    private static string Escape(string text, int maxLength)
    {
        var sb = new StringBuilder(Math.Min(text.Length, maxLength));
        foreach (var c in text)
        {
            if (sb.Length >= maxLength)
            {
                break;
            }

            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }

        return sb.ToString();
    }

    private static int CheckVersion(string operation, string stateName, GrainId grainId, StoredState? stored, string? etag)
    {
        var current = stored?.Version;
        var currentText = current?.ToString(CultureInfo.InvariantCulture);
        if (currentText != (string.IsNullOrEmpty(etag) ? null : etag))
        {
            throw new InconsistentStateException(
                $"{operation} of state '{stateName}' of {grainId} failed: stored version {currentText ?? "(none)"}, " +
                $"grain holds {etag ?? "(none)"}.", currentText ?? "", etag ?? "");
        }

        return current ?? 0;
    }

    private SemaphoreSlim LockFor(string path) => _locks[(uint)StringComparer.Ordinal.GetHashCode(path) % (uint)_locks.Length];

    private T Create<T>() => _activators is not null ? _activators.GetActivator<T>().Create() : Activator.CreateInstance<T>();

    /// <summary>Header line <c>cartridges-grain-state/1 &lt;version&gt; &lt;present|cleared&gt;</c>, then the payload.</summary>
    private static async Task WriteFileAsync(string path, int version, byte[]? payload)
    {
        var header = Encoding.ASCII.GetBytes(
            $"{Magic} {version.ToString(CultureInfo.InvariantCulture)} {(payload is null ? "cleared" : "present")}\n");
        var temp = AtomicFile.TempPathFor(path);
        try
        {
            await using (var file = AtomicFile.CreateTemp(temp))
            {
                await file.WriteAsync(header).ConfigureAwait(false);
                await file.WriteAsync(payload ?? NoPayload).ConfigureAwait(false);
                await AtomicFile.CommitAsync(file, CancellationToken.None).ConfigureAwait(false);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            AtomicFile.TryDelete(temp);
        }
    }

    private static async Task<StoredState?> ReadFileAsync(string path)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        var newline = Array.IndexOf(bytes, (byte)'\n');
        var parts = newline < 0 ? [] : Encoding.ASCII.GetString(bytes, 0, newline).Split(' ');
        if (parts.Length != 3 || parts[0] != Magic
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || parts[2] is not ("present" or "cleared"))
        {
            throw new InvalidDataException($"'{path}' is not a grain state file written by {nameof(FileGrainStorage)}.");
        }

        return new StoredState(version, parts[2] == "present" ? bytes[(newline + 1)..] : null);
    }

    private readonly record struct StoredState(int Version, byte[]? Payload);
}
