// Exceptions cross the wire only if Orleans has a codec for their type; anything else (TorchSharp's, the runtime's
// own exception types) would reach the caller as an opaque CodecNotFoundException. Grain calls therefore surface
// such errors as CartridgeException with the original type and message.
using Cartridges.Abstractions;

namespace Cartridges.Grains.Hosting;

/// <summary>Turns exceptions that cannot be serialized into <see cref="CartridgeException"/> (code internal_error).</summary>
internal sealed class PortableExceptionFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (!Portable(e))
        {
            throw new CartridgeException(CartridgeException.Internal, $"{e.GetType().Name}: {e.Message}");
        }
    }

    static bool Portable(Exception e)
    {
        var type = e.GetType();
        return e is CartridgeException || type.Assembly == typeof(object).Assembly || (type.Namespace?.StartsWith("Orleans", StringComparison.Ordinal) ?? false);
    }
}
