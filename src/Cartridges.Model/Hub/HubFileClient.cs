// HTTP side of the hub's file protocol: HEAD {endpoint}/{repo}/resolve/{revision}/{file} for the
// commit, etag and size; GET the same URL for the bytes, resuming with Range. Redirects are followed
// by hand because the hub sends large (LFS) files to a CDN on another host, and the token must stay
// with the hub: it is only ever sent to the endpoint's own scheme, host and port.
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Cartridges.Model.Hub;

/// <summary>Fetches file metadata and contents of one repo from the hub.</summary>
sealed partial class HubFileClient : IDisposable
{
    const int MaxRedirects = 10;
    const int BufferBytes = 1 << 20;
    // A stalled connection is worse than a dropped one: abandon it so a retry can resume.
    static readonly TimeSpan ReadIdleTimeout = TimeSpan.FromSeconds(60);

    readonly HttpClient _http;
    readonly Uri _endpoint;
    readonly string? _token;
    readonly HubRepoId _repo;

    public HubFileClient(HubOptions options, HubRepoId repo)
    {
        _repo = repo;
        _token = string.IsNullOrWhiteSpace(options.Token) ? null : options.Token.Trim();
        if (!Uri.TryCreate(options.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint)
            || endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Hub endpoint `{options.Endpoint}` is not an http(s) URL.", nameof(options));
        _endpoint = endpoint;
        var handler = options.HttpMessageHandler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler, disposeHandler: options.HttpMessageHandler is null);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("cartridges-hub/1.0");
    }

    /// <summary>The file's metadata at `revision`, or null when the hub says the repo has no such file.</summary>
    public async Task<HubFileMetadata?> HeadAsync(string revision, string file, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Head, ResolveUri(revision, file), rangeFrom: 0, ct);
        var code = HubErrors.Code(response);
        if (response.StatusCode == HttpStatusCode.NotFound && code is null or "EntryNotFound")
            return null;
        if (!response.IsSuccessStatusCode && !IsRedirect(response))
            throw HubErrors.FromResponse(response, _repo, revision, file, _token is not null);

        var commit = HubErrors.Header(response, "X-Repo-Commit");
        // For LFS files the hub's own ETag describes the redirect; the file's is in X-Linked-Etag.
        var etag = NormalizeEtag(HubErrors.Header(response, "X-Linked-Etag") ?? HubErrors.Header(response, "ETag"));
        var size = long.TryParse(HubErrors.Header(response, "X-Linked-Size"), out var linked)
            ? linked
            : response.Content.Headers.ContentLength;
        if (commit is null || !HubRepoId.IsCommitHash(commit))
            throw new HubException($"{_endpoint} sent no valid X-Repo-Commit header for {file} in {_repo.RepoPath}; is HF_ENDPOINT a Hugging Face hub, and does no proxy strip its headers?");
        if (etag is null || !SafeEtag().IsMatch(etag))
            throw new HubException($"{_endpoint} sent no usable ETag for {file} in {_repo.RepoPath} (got `{etag}`).");
        return new HubFileMetadata(commit, etag, size);
    }

    /// <summary>Downloads the file into `target`, appending to what an earlier attempt left there when the server allows.</summary>
    public async Task DownloadAsync(string revision, string file, string target, long? size,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        // FileShare.None doubles as a lock against another process resuming the same blob.
        await using var output = new FileStream(target, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None,
            bufferSize: 0, FileOptions.Asynchronous);
        var existing = output.Length;
        if (existing > size)
            existing = Truncate(output, 0);
        if (existing > 0 && existing == size)
            return; // finished by an earlier run that stopped before verifying

        using var response = await SendAsync(HttpMethod.Get, ResolveUri(revision, file), existing, ct);
        switch (response.StatusCode)
        {
            case HttpStatusCode.PartialContent:
                var from = response.Content.Headers.ContentRange?.From;
                if (from is null || from > existing)
                    throw new IOException($"The server answered a resume of {file} at byte {existing} with a range from {from?.ToString() ?? "?"}.");
                existing = Truncate(output, from.Value);
                break;
            case HttpStatusCode.OK:
                existing = Truncate(output, 0);
                break;
            case HttpStatusCode.RequestedRangeNotSatisfiable:
                Truncate(output, 0);
                throw new IOException($"The server refused to resume {file} at byte {existing}; restarting it.");
            default:
                throw HubErrors.FromResponse(response, _repo, revision, file, _token is not null);
        }

        var total = size ?? existing + response.Content.Headers.ContentLength;
        output.Position = existing;
        await CopyAsync(response, output, file, existing, total, progress, ct);
        await output.FlushAsync(ct);
        output.Flush(flushToDisk: true);
        if (size is { } expected && output.Length != expected)
            throw new IOException($"The download of {file} stopped at {output.Length} of {expected} bytes.");
    }

    public void Dispose() => _http.Dispose();

    static async Task CopyAsync(HttpResponseMessage response, FileStream output, string file, long done, long? total,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[BufferBytes];
        progress?.Report(new HubDownloadProgress(file, done, total));
        while (true)
        {
            idle.CancelAfter(ReadIdleTimeout);
            int read;
            try
            {
                read = await body.ReadAsync(buffer, idle.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"No data arrived for {ReadIdleTimeout.TotalSeconds:0} s while downloading {file}.");
            }
            if (read == 0)
                return;
            await output.WriteAsync(buffer.AsMemory(0, read), ct);
            done += read;
            progress?.Report(new HubDownloadProgress(file, done, total));
        }
    }

    async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, long rangeFrom, CancellationToken ct)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            if (_token is not null && SameOrigin(uri, _endpoint))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            if (rangeFrom > 0)
                request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
            // Sizes and hashes are of the raw bytes; a compressed transfer would break both.
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!IsRedirect(response) || response.Headers.Location is not { } location)
                return response;
            var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
            // A HEAD stops at the hub's redirect to the CDN: it carries the file's metadata, the CDN does not.
            if (method == HttpMethod.Head && IsHubFileRedirect(response, next))
                return response;
            response.Dispose();
            if (hop == MaxRedirects)
                throw new HubException($"Too many redirects fetching {uri}.");
            uri = next;
        }
    }

    Uri ResolveUri(string revision, string file)
    {
        var path = string.Join('/', file.Split('/').Select(Uri.EscapeDataString));
        return new Uri(_endpoint, $"{_repo.Owner}/{_repo.Name}/resolve/{Uri.EscapeDataString(revision)}/{path}");
    }

    bool IsHubFileRedirect(HttpResponseMessage response, Uri next) =>
        HubErrors.Header(response, "X-Linked-Etag") is not null
        || (HubErrors.Header(response, "X-Repo-Commit") is not null && !SameOrigin(next, _endpoint));

    static bool IsRedirect(HttpResponseMessage response) => (int)response.StatusCode is >= 300 and < 400;

    static bool SameOrigin(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    static long Truncate(FileStream stream, long length)
    {
        stream.SetLength(length);
        return length;
    }

    // The hub quotes etags and may mark them weak (W/"…"); the bare value names the blob.
    static string? NormalizeEtag(string? etag) =>
        etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    // The etag becomes a file name in blobs/, so nothing that could form a path is accepted.
    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$")]
    private static partial Regex SafeEtag();
}
