// The chat format the model is trained and probed in, identical to what self-study shows it: the Llama-3
// template, a system turn holding the project's self-study system prompt around "description + document", the
// user's message, and an assistant reply that starts with a space so its first value is the same token as in
// the document. Continuation turns are rendered exactly as the template renders later turns.
using Cartridges.Model.Chat;
using Cartridges.Model.Tokenization;
using Cartridges.Training.Synthesis;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Prompt and reply rendering for the records model.</summary>
public static class RecordsChat
{
    /// <summary>The chat template family of the records model.</summary>
    public const string TemplateFamily = "llama";

    /// <summary>End of an assistant turn.</summary>
    public const string EndOfTurn = "<|eot_id|>";

    static readonly ChatTemplate Template = ChatTemplate.For(TemplateFamily);

    /// <summary>The system prompt for a document (empty text = the "without document" probe).</summary>
    public static string SystemPrompt(string documentText) =>
        new SelfStudyOptions().SystemPromptTemplate.Replace("{chunk}", $"{TokenChunker.DefaultDescription}\n\n{documentText}", StringComparison.Ordinal);

    /// <summary>The first prompt: system turn with the document, user message, assistant header.</summary>
    public static string FirstPrompt(string documentText, string userMessage) =>
        Template.Render([new ChatMessage("system", SystemPrompt(documentText)), new ChatMessage("user", userMessage)], addGenerationPrompt: true);

    /// <summary>A later turn: user message and assistant header, after the previous reply's end of turn.</summary>
    public static string NextPrompt(string userMessage) =>
        $"<|start_header_id|>user<|end_header_id|>\n\n{userMessage.Trim()}{EndOfTurn}<|start_header_id|>assistant<|end_header_id|>\n\n";

    /// <summary>The assistant's reply as generated: a leading space, the text, end of turn.</summary>
    public static string Reply(string text) => $" {text.Trim()}{EndOfTurn}";

    /// <summary>Tokens of a first prompt.</summary>
    public static IReadOnlyList<int> EncodeFirstPrompt(HfTokenizer tokenizer, string documentText, string userMessage) =>
        Template.Encode(tokenizer, [new ChatMessage("system", SystemPrompt(documentText)), new ChatMessage("user", userMessage)], addGenerationPrompt: true);
}
