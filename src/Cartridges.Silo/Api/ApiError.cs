// Every failure of the API leaves as OpenAI's error object, {"error": {"message", "type", "param", "code"}}, so
// OpenAI clients surface it as they would OpenAI's own (the .NET client: ClientResultException with the status).
using Cartridges.Abstractions;

namespace Cartridges.Silo.Api;

/// <summary>A request the API refuses, with its HTTP status and OpenAI error fields.</summary>
public sealed class ApiError(int status, string message, string type = ApiError.InvalidRequestType, string? code = null, string? param = null)
    : Exception(message)
{
    /// <summary>OpenAI's error type for client mistakes.</summary>
    public const string InvalidRequestType = "invalid_request_error";

    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>OpenAI error type (invalid_request_error, authentication_error, rate_limit_error, insufficient_quota, server_error).</summary>
    public string Type { get; } = type;

    /// <summary>Machine-readable code.</summary>
    public string? Code { get; } = code;

    /// <summary>The request field at fault, if one is.</summary>
    public string? Param { get; } = param;

    /// <summary>400 for a bad field.</summary>
    public static ApiError BadRequest(string message, string? param = null, string code = "invalid_value") => new(400, message, code: code, param: param);

    /// <summary>404 for a cartridge the tenant does not have (the same whether it exists for another tenant or not).</summary>
    public static ApiError CartridgeNotFound(string name) => new(404, $"Cartridge '{name}' does not exist.", code: "cartridge_not_found");

    /// <summary>Maps a grain's refusal: not_found 404, invalid_request 400, conflict 409, not_ready 409, unavailable 503, else 500.</summary>
    public static ApiError From(CartridgeException e) => e.Code switch
    {
        // Grain messages name the full key "tenant/name"; the tenant part is the caller's own, so nothing leaks.
        CartridgeException.NotFound => new(404, e.Message, code: "cartridge_not_found"),
        CartridgeException.InvalidRequest => new(400, e.Message, code: "invalid_request"),
        CartridgeException.Conflict => new(409, e.Message, code: "conflict"),
        // The cartridge exists but is still training (or failed): the request conflicts with its state; retry later.
        CartridgeException.NotReady => new(409, e.Message, code: "cartridge_not_ready"),
        CartridgeException.Unavailable => new(503, e.Message, "server_error", "unavailable"),
        _ => new(500, e.Message, "server_error", "internal_error"),
    };

    /// <summary>The OpenAI error body.</summary>
    public ErrorBody Body() => new(new ErrorDetail(Message, Type, Param, Code));
}

/// <summary>OpenAI's error envelope.</summary>
public sealed record ErrorBody(ErrorDetail Error);

/// <summary>OpenAI's error object.</summary>
public sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);
