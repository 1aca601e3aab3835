using System.IO.Compression;
using Cartridges.Model.Tokenization;
using Cartridges.ProvingGround.Pretraining;
using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Tests.Pretraining;

public sealed class SequenceExportTests
{
    static List<(int Records, int[] Tokens, byte[] Labels)> Read(string path)
    {
        using var r = new BinaryReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var result = new List<(int, int[], byte[])>();
        while (true)
        {
            int records;
            try
            {
                records = r.ReadInt32();
            }
            catch (EndOfStreamException)
            {
                return result;
            }
            var n = r.ReadInt32();
            var tokens = Enumerable.Range(0, n).Select(_ => (int)r.ReadUInt16()).ToArray();
            result.Add((records, tokens, r.ReadBytes(n)));
        }
    }

    [Fact]
    public void Export_WritesTheBuildersConversations_WithReplyLabels_AndAnEmptyDocumentVariant()
    {
        var dir = TinyModelDir.WithTokenizer();
        var tokenizer = HfTokenizer.Load(dir);
        var counts = new Dictionary<int, int> { [1] = 3, [2] = 2 };
        var total = SequenceExport.Write(Path.Combine(dir, "train.bin.gz"), tokenizer, PretrainRecipe.Records, RecordSplit.Train, counts);
        SequenceExport.Write(Path.Combine(dir, "probe.bin.gz"), tokenizer, PretrainRecipe.Records, RecordSplit.HeldOut, counts, probe: true);
        SequenceExport.Write(Path.Combine(dir, "nodoc.bin.gz"), tokenizer, PretrainRecipe.Records, RecordSplit.HeldOut, counts, probe: true, withoutDocument: true);

        var train = Read(Path.Combine(dir, "train.bin.gz"));
        Assert.Equal([1, 1, 1, 2, 2], train.Select(t => t.Records));
        Assert.Equal(total, train.Sum(t => t.Tokens.Length));
        var eot = tokenizer.EncodeSpecial(RecordsChat.EndOfTurn);
        foreach (var (_, tokens, labels) in train)
        {
            // Every reply ends with <|eot_id|>, which is labelled; the document and prompts are not.
            Assert.Equal(0, labels[0]);
            for (var i = 0; i < labels.Length; i++)
                if (labels[i] == 1 && (i + 1 == labels.Length || labels[i + 1] == 0)) Assert.Equal(eot, tokens[i]);
            Assert.True(labels.Count(l => l == 1) >= SequenceBuilder.TurnsFor(1, 0) * 2, "at least one answer token and an end of turn per turn");
        }

        var probe = Read(Path.Combine(dir, "probe.bin.gz"));
        var nodoc = Read(Path.Combine(dir, "nodoc.bin.gz"));
        for (var i = 0; i < probe.Count; i++)
        {
            // Same questions and answers, without the document: the labelled tokens agree, the context is shorter.
            Assert.Equal(probe[i].Tokens.Where((_, k) => probe[i].Labels[k] == 1), nodoc[i].Tokens.Where((_, k) => nodoc[i].Labels[k] == 1));
            Assert.True(nodoc[i].Tokens.Length < probe[i].Tokens.Length);
        }
    }
}
