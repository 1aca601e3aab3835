using System.Text.Json;
using Orleans.Storage;

namespace Cartridges.Storage.Tests.Support;

/// <summary>Stands in for the silo's JSON serializer, which needs a whole Orleans service provider.</summary>
internal sealed class SystemTextJsonSerializer : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input));

    public T Deserialize<T>(BinaryData input) => input.ToObjectFromJson<T>()!;
}
