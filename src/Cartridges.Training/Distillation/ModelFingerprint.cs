// Identity of the frozen model a training run belongs to, so a checkpoint is never resumed on another model
// (cartridges are only meaningful for the exact weights they were trained against, method §1/§4).
using System.Security.Cryptography;
using System.Text;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.Training.Distillation;

/// <summary>Architecture hash plus a strided sample of every weight tensor: cheap, and differs between checkpoints of one architecture.</summary>
internal static class ModelFingerprint
{
    const int SamplesPerTensor = 256;

    public static string Of(TransformerModel model)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(model.Config.ArchitectureHash()));
        foreach (var (name, weight) in model.NamedTensors().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var flat = weight.flatten();
            var stride = Math.Max(1, flat.shape[0] / SamplesPerTensor);
            var sample = flat.slice(0, 0, flat.shape[0], stride).to(ScalarType.Float32).cpu().data<float>().ToArray();
            hash.AppendData(Encoding.UTF8.GetBytes(name));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes<float>(sample));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
