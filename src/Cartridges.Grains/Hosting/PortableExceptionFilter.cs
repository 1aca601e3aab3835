// Exceptions cross the wire only if Orleans has a codec for their type; anything else (TorchSharp's, the runtime's
// own exception types) would reach the caller as an opaque CodecNotFoundException. Grain calls therefore surface
// such errors as CartridgeException with the original message; server directories in any message leaving a grain are
// replaced by labels, and .NET type names stay in the server log.
using Cartridges.Abstractions;

namespace Cartridges.Grains.Hosting;

/// <summary>Turns exceptions that cannot be serialized, or that name server directories, into <see cref="CartridgeException"/> (code internal_error).</summary>
internal sealed class PortableExceptionFilter(ServerPaths paths, Microsoft.Extensions.Logging.ILogger<PortableExceptionFilter> log) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (CartridgeException e) when (paths.Scrub(e.Message) is var scrubbed && scrubbed != e.Message)
        {
            throw new CartridgeException(e.Code, scrubbed);
        }
        catch (Exception e) when (e is not CartridgeException && (!Portable(e) || paths.Scrub(e.Message) != e.Message))
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(log, e, "{Method} failed", context.InterfaceMethod?.Name);
            throw new CartridgeException(CartridgeException.Internal, paths.Scrub(e.Message));
        }
    }

    static bool Portable(Exception e)
    {
        var type = e.GetType();
        return e is CartridgeException || type.Assembly == typeof(object).Assembly || (type.Namespace?.StartsWith("Orleans", StringComparison.Ordinal) ?? false);
    }
}
