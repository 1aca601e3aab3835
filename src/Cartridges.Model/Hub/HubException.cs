using System.Net;

namespace Cartridges.Model.Hub;

/// <summary>A model could not be resolved from the hub or the cache; the message names the repo and file.</summary>
public sealed class HubException : Exception
{
    /// <summary>The hub's HTTP status when the failure was an HTTP response, else null.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Creates the exception.</summary>
    public HubException(string message, HttpStatusCode? statusCode = null, Exception? inner = null)
        : base(message, inner) => StatusCode = statusCode;

    // Retrying helps only when the hub or the network was briefly unhappy, never for 4xx or bad data.
    internal bool IsTransient =>
        StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
        || (int?)StatusCode >= 500;
}
