// Participant A's behaviour: given a document and a self-study seed prompt, does the model write a well-formed
// question about a patient of that document? A generated question counts when it equals some question template
// (any split) filled with some record of the document. Greedy decoding with the runtime's forward pass.
using Cartridges.Model.Chat;
using Cartridges.Model.Tokenization;
using Cartridges.Model.Transformer;
using Cartridges.ProvingGround.Records;
using Cartridges.Training.Synthesis;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Share of seed prompts the model answers with a valid question about the document.</summary>
public sealed class QuestionWritingProbe(HfTokenizer tokenizer, RecordsGenerator generator)
{
    /// <summary>A probe on held-out documents of the default (varied) wording.</summary>
    public QuestionWritingProbe(HfTokenizer tokenizer, int seed = 1)
        : this(tokenizer, new RecordsGenerator(RecordSplit.HeldOut, seed))
    {
    }

    readonly RecordsGenerator _generator = generator;

    /// <summary>Generates one question per document and returns the valid share and an example.</summary>
    public (double Valid, string Example) Run(TransformerModel model, int records, int count, int maxTokens = 32)
    {
        var stop = ChatTemplate.For(RecordsChat.TemplateFamily).StopTokenIds(tokenizer).ToHashSet();
        var valid = 0;
        var example = "";
        for (var i = 0; i < count; i++)
        {
            var doc = _generator.Document(7_000_000 + i, records);
            var seedPrompt = SeedPrompts.Sample(_generator.StreamRng("ask", i)).Text;
            var ids = RecordsChat.EncodeFirstPrompt(tokenizer, doc.Text, seedPrompt).ToList();
            var generated = new List<int>();
            for (var k = 0; k < maxTokens; k++)
            {
                var next = Greedy(model, ids);
                if (stop.Contains(next)) break;
                ids.Add(next);
                generated.Add(next);
            }
            var text = tokenizer.Decode(generated).Trim();
            if (i == 0) example = text;
            if (IsQuestionAbout(doc, text, _generator.Style)) valid++;
        }
        return ((double)valid / count, example);
    }

    /// <summary>True when <paramref name="text"/> is a question template of <paramref name="style"/> filled with one of the document's records.</summary>
    public static bool IsQuestionAbout(RecordsDocument doc, string text, FactStyle style = FactStyle.Varied)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var templates = RecordTemplates.QuestionsFor(style);
        return doc.Records.Any(r => templates.Values.Any(list => list.Any(t => RecordTemplates.Fill(t, r) == text)));
    }

    static int Greedy(TransformerModel model, List<int> ids)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(ids.Select(x => (long)x).ToArray(), device: model.Device).view(1, -1);
        var hidden = model.Forward(new ForwardBatch { Tokens = input });
        return (int)model.Logits(hidden[0, -1]).argmax().item<long>();
    }
}
