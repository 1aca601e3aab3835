using Cartridges.Model.Chat;
using Cartridges.Model.Tokenization;
using Cartridges.ProvingGround.Records;
using Cartridges.ProvingGround.Vocabulary;

namespace Cartridges.ProvingGround.Tests.Vocabulary;

public sealed class RecordsTokenizerTests
{
    static readonly HfTokenizer Tokenizer = HfTokenizer.Load(TinyModelDir.WithTokenizer());

    [Theory]
    [InlineData(" Kowalski")]
    [InlineData(" Anna")]
    [InlineData(" 482")]
    [InlineData(" 1961")]
    [InlineData(" March")]
    [InlineData(" metformin")]
    [InlineData(" hypertension")]
    [InlineData(" 1000")]
    [InlineData(" Abbott")]
    public void EveryValue_IsOneToken(string piece) => Assert.Single(Tokenizer.Encode(piece));

    [Theory]
    [InlineData(FactStyle.Varied)]
    [InlineData(FactStyle.NameFirst)]
    [InlineData(FactStyle.Keyed)]
    public void Documents_TokenizeOneTokenPerPiece_AndRoundTrip(FactStyle style)
    {
        foreach (var split in new[] { RecordSplit.Train, RecordSplit.HeldOut, RecordSplit.HeldOutTemplates })
        {
            var gen = new RecordsGenerator(split, 5, style);
            var doc = gen.Document(123, 7);
            var ids = Tokenizer.Encode(doc.Text);
            Assert.Equal(TokenEstimate.Count(doc.Text), ids.Count);
            Assert.Equal(doc.Text, Tokenizer.Decode(ids));
            foreach (var q in gen.Questions(doc)) Assert.Equal(TokenEstimate.Count(q.Text), Tokenizer.Encode(q.Text).Count);
        }
    }

    [Fact]
    public void Keyed_EveryFactIsSurnameAttributeValue_OneTokenKeys_ValueRightAfter()
    {
        // The keyed data's promise: in training templates every fact is [surname][attribute][value…], the surname and
        // the attribute one token each, so a question's key is two adjacent tokens and its answer starts at a fixed offset.
        var gen = new RecordsGenerator(RecordSplit.Train, 4, FactStyle.Keyed);
        var doc = gen.Document(17, 9);
        var ids = Tokenizer.Encode(doc.Text);
        foreach (var q in gen.Questions(doc))
        {
            var surname = Assert.Single(Tokenizer.Encode(" " + doc.Records[q.Record].Last));
            var answer = Tokenizer.Encode(" " + q.Answer);
            var attributes = Enumerable.Range(0, ids.Count - answer.Count - 1)
                .Where(i => ids[i] == surname && ids.Skip(i + 2).Take(answer.Count).SequenceEqual(answer))
                .Select(i => ids[i + 1]).ToList();
            // Exactly one place states this fact, and the attribute between key and value is a single word token.
            var attribute = Assert.Single(attributes);
            Assert.Equal(1, TokenEstimate.Count(Tokenizer.Decode([attribute])));
            Assert.Contains(" " + doc.Records[q.Record].Last, q.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UnknownText_FallsBackToBytes()
    {
        var text = "Zyxwv ünïcode ☃";
        Assert.Equal(text, Tokenizer.Decode(Tokenizer.Encode(text)));
    }

    [Fact]
    public void LlamaChatTemplate_SpecialTokensExist()
    {
        var template = ChatTemplate.For("llama");
        var ids = template.Encode(Tokenizer, [new ChatMessage("user", "When was Anna Kowalski born?")], addGenerationPrompt: true);
        Assert.Equal(Tokenizer.BosId, ids[0]);
        Assert.Contains(Tokenizer.EncodeSpecial("<|eot_id|>"), ids);
        Assert.Equal(Tokenizer.EosId, Tokenizer.EncodeSpecial("<|eot_id|>"));
        Assert.Contains(Tokenizer.EncodeSpecial("<|eot_id|>"), template.StopTokenIds(Tokenizer));
    }

    [Fact]
    public void Pieces_AreDeterministic() => Assert.Equal(TinyModelDir.Pieces, VocabularySamples.Pieces(1));
}
