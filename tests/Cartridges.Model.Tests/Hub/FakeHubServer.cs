// A stand-in for huggingface.co's file endpoints on 127.0.0.1, sending the same headers the real hub
// does: `resolve` answers with X-Repo-Commit and a git-sha1 ETag for small files, and redirects
// "LFS" files to a CDN path on another host name (localhost) with X-Linked-Etag = sha256 and
// X-Linked-Size. Faults (dropped or stalled connections, corrupted bytes) are switched on per file.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Cartridges.Model.Tests.Hub;

/// <summary>An HttpListener imitating the hub's HEAD/GET resolve endpoints for one repo.</summary>
sealed class FakeHubServer : IDisposable
{
    public const string Commit = "c0ffee0123456789abcdef0123456789abcdef01";

    readonly HttpListener _listener = new();
    readonly ConcurrentDictionary<string, int> _drops = new();
    readonly Task _loop;

    public FakeHubServer(string repo, IReadOnlyDictionary<string, FakeHubFile> files)
    {
        Repo = repo;
        Files = files;
        Port = StartOnFreePort(_listener);
        _loop = Task.Run(AcceptLoopAsync);
    }

    public string Repo { get; }
    public IReadOnlyDictionary<string, FakeHubFile> Files { get; }
    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<FakeHubRequest> Requests { get; } = new();

    /// <summary>When set, resolve requests without `Bearer {token}` get 401 like a private repo.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>Serves this file's bytes with one byte flipped, under the true etag.</summary>
    public string? CorruptFile { get; set; }

    /// <summary>Sends half of this file, then waits for <see cref="ReleaseStall"/> and drops the connection.</summary>
    public string? StallFile { get; set; }

    readonly TaskCompletionSource _stallReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long a stalled download waits for <see cref="ReleaseStall"/> before dropping the connection anyway.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public void ReleaseStall() => _stallReleased.TrySetResult();

    /// <summary>The next `times` full (non-range) downloads of `file` send half the bytes, then drop the connection.</summary>
    public void DropConnection(string file, int times = 1) => _drops[file] = times;

    public void Dispose()
    {
        ReleaseStall();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }

    static int StartOnFreePort(HttpListener listener)
    {
        // The port is free when probed; another process could still take it, so try a few.
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            listener.Prefixes.Clear();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Prefixes.Add($"http://localhost:{port}/");
            try
            {
                listener.Start();
                return port;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
    }

    async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        Requests.Enqueue(new FakeHubRequest(request.HttpMethod, Uri.UnescapeDataString(path), request.Url.Host,
            request.Headers["Range"], request.Headers["Authorization"]));
        try
        {
            if (path.StartsWith("/cdn/", StringComparison.Ordinal))
                await ServeCdnAsync(context, path["/cdn/".Length..]);
            else
                await ServeResolveAsync(context, path);
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away (e.g. a test cancelled); nothing to answer.
        }
    }

    async Task ServeResolveAsync(HttpListenerContext context, string path)
    {
        var response = context.Response;
        var prefix = $"/{Repo}/resolve/";
        if (RequiredToken is not null && context.Request.Headers["Authorization"] != $"Bearer {RequiredToken}")
        {
            Error(response, HttpStatusCode.Unauthorized, "RepositoryNotFound", "Invalid credentials in Authorization header");
            return;
        }
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            Error(response, HttpStatusCode.Unauthorized, "RepositoryNotFound", "Repository not found");
            return;
        }
        var rest = path[prefix.Length..];
        var slash = rest.IndexOf('/');
        var revision = Uri.UnescapeDataString(rest[..slash]);
        var name = Uri.UnescapeDataString(rest[(slash + 1)..]);
        if (revision is not ("main" or Commit))
        {
            Error(response, HttpStatusCode.NotFound, "RevisionNotFound", "Invalid rev id");
            return;
        }
        response.Headers["X-Repo-Commit"] = Commit;
        if (!Files.TryGetValue(name, out var file))
        {
            Error(response, HttpStatusCode.NotFound, "EntryNotFound", "Entry not found");
            return;
        }
        if (file.Lfs)
        {
            response.StatusCode = (int)HttpStatusCode.Found;
            response.Headers["Location"] = $"http://localhost:{Port}/cdn/{file.Etag}";
            response.Headers["X-Linked-Etag"] = $"\"{file.Etag}\"";
            response.Headers["X-Linked-Size"] = file.Content.Length.ToString();
            response.Headers["ETag"] = "\"redirect-etag-not-the-file\"";
            return;
        }
        response.Headers["ETag"] = $"\"{file.Etag}\"";
        await ServeBytesAsync(context, name, file);
    }

    async Task ServeCdnAsync(HttpListenerContext context, string sha)
    {
        var match = Files.FirstOrDefault(f => f.Value.Lfs && f.Value.Etag == sha);
        if (match.Value is null)
        {
            context.Response.StatusCode = (int)HttpStatusCode.NotFound;
            return;
        }
        context.Response.Headers["ETag"] = $"\"{sha}\"";
        await ServeBytesAsync(context, match.Key, match.Value);
    }

    async Task ServeBytesAsync(HttpListenerContext context, string name, FakeHubFile file)
    {
        var response = context.Response;
        var content = file.Content;
        if (name == CorruptFile)
        {
            content = [.. content];
            content[content.Length / 2] ^= 0xFF;
        }
        var start = 0L;
        if (context.Request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            start = long.Parse(range["bytes=".Length..].TrimEnd('-'));
            if (start >= content.Length)
            {
                response.StatusCode = (int)HttpStatusCode.RequestedRangeNotSatisfiable;
                response.Headers["Content-Range"] = $"bytes */{content.Length}";
                return;
            }
            response.StatusCode = (int)HttpStatusCode.PartialContent;
            response.Headers["Content-Range"] = $"bytes {start}-{content.Length - 1}/{content.Length}";
        }
        response.Headers["Accept-Ranges"] = "bytes";
        response.ContentLength64 = content.Length - start;
        if (context.Request.HttpMethod == "HEAD")
            return;

        var body = content.AsMemory((int)start);
        var drop = start == 0 && _drops.TryGetValue(name, out var left) && left > 0 && _drops.TryUpdate(name, left - 1, left);
        if (drop || (name == StallFile && start == 0))
        {
            await response.OutputStream.WriteAsync(body[..(body.Length / 2)]);
            await response.OutputStream.FlushAsync();
            if (drop)
                await Task.Delay(100); // let the client take in the half before the reset
            else
                await _stallReleased.Task.WaitAsync(StallTimeout);
            response.Abort();
            return;
        }
        await response.OutputStream.WriteAsync(body);
    }

    static void Error(HttpListenerResponse response, HttpStatusCode status, string code, string message)
    {
        response.StatusCode = (int)status;
        response.Headers["X-Error-Code"] = code;
        response.Headers["X-Error-Message"] = message;
    }
}
