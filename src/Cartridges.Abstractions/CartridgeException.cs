namespace Cartridges.Abstractions;

/// <summary>A request a cartridge refused, with a machine-readable code (mapped to HTTP statuses by the API).</summary>
[GenerateSerializer]
public sealed class CartridgeException : Exception
{
    /// <summary>Unknown or deleted cartridge.</summary>
    public const string NotFound = "not_found";
    /// <summary>The request is malformed (empty question, bad spec …).</summary>
    public const string InvalidRequest = "invalid_request";
    /// <summary>The request conflicts with the cartridge's state (create twice with another spec, delete while training …).</summary>
    public const string Conflict = "conflict";
    /// <summary>The cartridge is not Serving (yet).</summary>
    public const string NotReady = "not_ready";
    /// <summary>An unexpected server-side error (its message is in the text; the server log has the rest).</summary>
    public const string Internal = "internal_error";
    /// <summary>No silo can do the work (no accelerator silo, model unavailable).</summary>
    public const string Unavailable = "unavailable";

    /// <summary>Creates the exception.</summary>
    public CartridgeException(string code, string message) : base(message) => Code = code;

    /// <summary>Machine-readable reason: one of the constants of this class.</summary>
    [Id(0)] public string Code { get; }
}
