// `ask` and `chat` talk to the cluster through the official OpenAI .NET client, exactly as an application using the
// API would: whatever they show is what any OpenAI-compatible client gets, streaming included.
using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;

namespace Cartridges.Cli.Commands;

/// <summary>Chat completions against a cluster connection, streamed to the console.</summary>
internal static class CartridgeChat
{
    /// <summary>A chat client for <paramref name="model"/> over <paramref name="http"/> (its base address, key and timeout).</summary>
    public static ChatClient Create(HttpClient http, string model)
    {
        var options = new OpenAIClientOptions { Endpoint = http.BaseAddress, Transport = new HttpClientPipelineTransport(http), NetworkTimeout = http.Timeout };
        var key = http.DefaultRequestHeaders.Authorization?.Parameter;
        // A keyless server (embedded, `serve --anonymous`) treats any key as a wrong one, so none may be sent.
        if (key is null) options.AddPolicy(new NoAuthorization(), PipelinePosition.BeforeTransport);
        return new ChatClient(model, new ApiKeyCredential(key ?? "none"), options);
    }

    /// <summary>Streams one answer to the console as it arrives and returns its text.</summary>
    public static async Task<string> StreamAsync(ChatClient chat, IEnumerable<ChatMessage> messages, ChatCompletionOptions options, CancellationToken ct)
    {
        var text = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options, ct))
        {
            foreach (var part in update.ContentUpdate)
            {
                Console.Write(part.Text);
                text.Append(part.Text);
            }
        }
        Console.WriteLine();
        return text.ToString();
    }

    /// <summary>Removes the Authorization header the client always adds.</summary>
    sealed class NoAuthorization : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Remove("Authorization");
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Remove("Authorization");
            return ProcessNextAsync(message, pipeline, currentIndex);
        }
    }
}
