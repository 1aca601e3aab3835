// Turns the hub's error responses into messages that say which repo and file failed and what to do.
// The hub answers 401 both for private repos and for repos that do not exist (so as not to leak
// names), and tags 404s with X-Error-Code to tell a missing repo, revision and file apart.
using System.Net;

namespace Cartridges.Model.Hub;

/// <summary>Builds HubException messages from hub HTTP responses.</summary>
static class HubErrors
{
    /// <summary>The hub's X-Error-Code (RepositoryNotFound, RevisionNotFound, EntryNotFound, GatedRepo…), or null.</summary>
    public static string? Code(HttpResponseMessage response) => Header(response, "X-Error-Code");

    /// <summary>The exception for a failed request of `file` in `repo`.</summary>
    public static HubException FromResponse(HttpResponseMessage response, HubRepoId repo, string revision, string file, bool sentToken)
    {
        var status = response.StatusCode;
        var hint = sentToken
            ? "Check that HF_TOKEN is valid and its account has access to the repo."
            : "If the repo is private or gated, set HF_TOKEN to an access token (or log in with `hf auth login`).";
        var message = status switch
        {
            HttpStatusCode.Unauthorized when sentToken =>
                $"The hub rejected the access token (401) for {repo.RepoPath} while fetching {file}. {hint}",
            HttpStatusCode.Unauthorized =>
                $"Repository {repo.RepoPath} was not found or needs authentication (401) while fetching {file}. {hint}",
            HttpStatusCode.Forbidden =>
                $"Access to {repo.RepoPath} is forbidden (403) while fetching {file}. If the model is gated, accept its terms on the hub first. {hint}",
            HttpStatusCode.NotFound when Code(response) == "RepositoryNotFound" =>
                $"Repository {repo.RepoPath} was not found (404). {hint}",
            HttpStatusCode.NotFound when Code(response) == "RevisionNotFound" =>
                $"Revision `{revision}` was not found in {repo.RepoPath} (404).",
            HttpStatusCode.NotFound =>
                $"{repo.RepoPath} has no file {file} at revision `{revision}` (404).",
            _ => $"The hub answered {(int)status} {response.ReasonPhrase} for {file} in {repo.RepoPath}.",
        };
        if (Header(response, "X-Error-Message") is { } detail)
            message += $" The hub says: {detail}";
        return new HubException(message, status);
    }

    /// <summary>A response header, looked up among both message and content headers.</summary>
    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault()
            : null;
}
