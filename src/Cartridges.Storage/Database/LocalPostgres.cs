// A throw-away PostgreSQL server for tests, the CLI demo and CI: initdb into a temp directory, start it on a free
// port with trust authentication, hand out databases, and stop and delete it afterwards.
using System.Diagnostics;
using Npgsql;

namespace Cartridges.Storage.Database;

/// <summary>A private PostgreSQL server in a temporary directory (needs the PostgreSQL server binaries).</summary>
/// <remarks>
/// initdb refuses to run as root, so as root the server runs as the <c>postgres</c> account via <c>runuser</c>.
/// Binaries come from <c>CARTRIDGES_PG_BIN</c>, else the newest <c>/usr/lib/postgresql/*/bin</c>, else PATH.
/// </remarks>
public sealed class LocalPostgres : IAsyncDisposable
{
    private const string Superuser = "postgres";
    private const string RunAsUser = "postgres";
    private readonly string _bin;
    private readonly bool _runAsOther;
    private bool _stopped;

    private LocalPostgres(string bin, string directory, int port, bool runAsOther)
    {
        _bin = bin;
        Directory = directory;
        Port = port;
        _runAsOther = runAsOther;
    }

    /// <summary>The temporary directory holding the data directory and the server log.</summary>
    public string Directory { get; }

    /// <summary>The TCP port the server listens on (127.0.0.1 only).</summary>
    public int Port { get; }

    /// <summary>Connection string for the <c>postgres</c> maintenance database as the superuser.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    private string DataDirectory => Path.Combine(Directory, "data");

    private string LogFile => Path.Combine(Directory, "server.log");

    /// <summary>Connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
    }.ConnectionString;

    /// <summary>Whether PostgreSQL server binaries (initdb, pg_ctl) can be found on this machine.</summary>
    public static bool IsAvailable() => FindBinDirectory() is not null;

    /// <summary>Creates and starts a server under <paramref name="parentDirectory"/> (default: the temp directory).</summary>
    public static async Task<LocalPostgres> StartAsync(string? parentDirectory = null, CancellationToken ct = default)
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found: set CARTRIDGES_PG_BIN or install PostgreSQL.");
        var runAsOther = Environment.UserName == "root";
        var parent = Path.GetFullPath(parentDirectory ?? Path.GetTempPath());
        System.IO.Directory.CreateDirectory(parent);
        var directory = Path.Combine(parent, $"cartridges-pg-{Guid.NewGuid():N}"[..24]);
        System.IO.Directory.CreateDirectory(directory);
        if (runAsOther)
        {
            await RunAsync("chown", ["-R", RunAsUser, directory], ct).ConfigureAwait(false);
        }

        var server = new LocalPostgres(bin, directory, 0, runAsOther);
        try
        {
            await server.RunPgAsync("initdb",
                ["-D", server.DataDirectory, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"], ct)
                .ConfigureAwait(false);
        }
        catch
        {
            TryDelete(directory);
            throw;
        }

        // A free port can be taken between probing and binding; try a few.
        for (var attempt = 1; ; attempt++)
        {
            var started = new LocalPostgres(bin, directory, Networking.LoopbackPort.Free(), runAsOther);
            try
            {
                await started.RunPgAsync("pg_ctl", ["-D", started.DataDirectory, "-l", started.LogFile, "-w", "-t", "60", "-o",
                    $"-p {started.Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300 " +
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start"], ct).ConfigureAwait(false);
                return started;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Most likely the port was taken meanwhile (server.log says); the next attempt probes another.
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                var log = File.Exists(started.LogFile) ? string.Join('\n', File.ReadLines(started.LogFile).TakeLast(20)) : "(no log)";
                TryDelete(directory);
                throw new InvalidOperationException($"{e.Message}\nserver.log:\n{log}", e);
            }
            catch
            {
                TryDelete(directory);
                throw;
            }
        }
    }

    /// <summary>Creates a database on this server and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        await CreateDatabaseAsync(ConnectionString, name, ct).ConfigureAwait(false);
        return ConnectionStringFor(name);
    }

    /// <summary>Creates <paramref name="name"/> on the server behind <paramref name="adminConnectionString"/>.</summary>
    public static async Task CreateDatabaseAsync(string adminConnectionString, string name, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var admin = new NpgsqlConnectionStringBuilder(adminConnectionString) { Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync(ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {SchemaMigrator.QuoteIdentifier(name)}", conn);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stops the server (fast shutdown); the directory stays until <see cref="DisposeAsync"/>.</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        NpgsqlConnection.ClearAllPools();
        await RunPgAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "30", "stop"], ct).ConfigureAwait(false);
    }

    /// <summary>Stops the server if running and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already stopped or never started; deleting the directory is all that is left.
        }

        TryDelete(Directory);
    }

    /// <summary>
    /// Starts a detached watchdog that stops the server and deletes its directory once process <paramref name="pid"/>
    /// is gone, however it ends (test hosts are often killed before exit handlers finish).
    /// </summary>
    public void StopWhenProcessExits(int pid)
    {
        var pgCtl = Path.Combine(_bin, "pg_ctl");
        var stop = $"{(_runAsOther ? $"runuser -u {RunAsUser} -- " : "")}{Quote(pgCtl)} -D {Quote(DataDirectory)} -m immediate -w -t 20 stop";
        var watchdog = $"while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}; rm -rf {Quote(Directory)}";
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        // setsid + /dev/null: the watchdog outlives the caller's session and holds none of its pipes.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"setsid /bin/sh -c {Quote(watchdog)} </dev/null >/dev/null 2>&1 &");
        using var launcher = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the watchdog shell.");
        launcher.WaitForExit();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The directory holding initdb and pg_ctl, or null.</summary>
    public static string? FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("CARTRIDGES_PG_BIN");
        if (!string.IsNullOrEmpty(configured) && File.Exists(Path.Combine(configured, "pg_ctl")))
        {
            return configured;
        }

        const string Debian = "/usr/lib/postgresql";
        if (System.IO.Directory.Exists(Debian))
        {
            var newest = System.IO.Directory.GetDirectories(Debian)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .Where(d => File.Exists(Path.Combine(d.Dir, "pg_ctl")))
                .OrderByDescending(d => d.Version)
                .FirstOrDefault();
            if (newest.Dir is not null)
            {
                return newest.Dir;
            }
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "initdb")))
            {
                return dir;
            }
        }

        return null;
    }

    private Task RunPgAsync(string tool, IReadOnlyList<string> args, CancellationToken ct)
    {
        var exe = Path.Combine(_bin, tool);
        return _runAsOther
            ? RunAsync("runuser", ["-u", RunAsUser, "--", exe, .. args], ct)
            : RunAsync(exe, args, ct);
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The server must not run from a directory the postgres account cannot read.
            WorkingDirectory = "/",
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        // pg_ctl leaves the server holding inherited pipes; read only until pg_ctl itself exits.
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            var output = "";
            try
            {
                var wait = TimeSpan.FromSeconds(2);
                output = await stderr.WaitAsync(wait, ct).ConfigureAwait(false) + await stdout.WaitAsync(wait, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }

            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} {string.Join(' ', args)} exited with {process.ExitCode}: {output.Trim()}");
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
