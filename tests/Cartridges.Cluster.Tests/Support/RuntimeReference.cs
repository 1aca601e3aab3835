// The model runtime alone (no Orleans): what a cartridge file answers to a question, greedily.
using Cartridges.Model.Chat;
using Cartridges.Model.Engine;
using Cartridges.Model.Tokenization;
using Cartridges.Storage.Blobs;
using Cartridges.Training.Cartridges;

namespace Cartridges.Cluster.Tests.Support;

/// <summary>Answers questions from cartridge blobs with a private engine, for comparison with the cluster.</summary>
public static class RuntimeReference
{
    /// <summary>Greedy answer token ids of the cartridges (blob hashes, composed in order) to a question.</summary>
    public static async Task<IReadOnlyList<int>> AnswerAsync(string modelDir, IBlobStore blobs, IReadOnlyList<string> cartridgeBlobs, string question, int maxTokens)
    {
        using var engine = await GenerationEngine.LoadAsync(modelDir, device: "cpu");
        var tokenizer = HfTokenizer.Load(modelDir);
        var template = ChatTemplate.For(CartridgeInitializer.TemplateFamily(engine.Model.Config));
        var ids = new List<string>();
        foreach (var blob in cartridgeBlobs)
        {
            var file = Path.Combine(Path.GetTempPath(), $"ref-{Guid.NewGuid():N}.safetensors");
            await blobs.ReadToFileAsync(blob, file);
            await engine.RegisterPrefixAsync(blob, m =>
            {
                var (cartridge, _) = CartridgeFile.Load(file, m.Config, m.DType, m.Device);
                using (cartridge) return cartridge.ToServingPrefix();
            });
            File.Delete(file);
            ids.Add(blob);
        }
        var prompt = template.Encode(tokenizer, [new ChatMessage("user", question)], addGenerationPrompt: true, forCartridge: true);
        var result = await engine.GenerateAsync(new GenerationRequest
        {
            Prompt = prompt,
            PrefixIds = ids,
            Sampling = SamplingParams.Greedy(maxTokens, template.StopTokenIds(tokenizer).ToHashSet()),
        });
        return result.Tokens;
    }
}
