// Writes pools of records training conversations (exactly what SequenceBuilder gives the pretrainer) to a gzip
// file, so the recipe can be studied with other tools — e.g. a curriculum sweep on a GPU machine
// (tools/gpu-research). Format, little-endian, repeated to the end of the stream:
//   int32 records, int32 length, uint16 token[length], uint8 label[length]   (label 1 = reply token, 0 = context)
using System.IO.Compression;
using Cartridges.Model.Tokenization;
using Cartridges.ProvingGround.Records;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Exports training or probe conversations of a recipe.</summary>
public static class SequenceExport
{
    /// <summary>
    /// Writes <paramref name="counts"/>[r] conversations about documents of r records; returns the tokens written.
    /// With <paramref name="withoutDocument"/> the same conversations are rendered with an empty document (the
    /// without-document probe). Probe pools use plain questions only (no participant-A turns, no chain of thought). Facts are worded as the recipe says.
    /// With a keyed recipe's drill share, that share of the training conversations are recall drills.
    /// </summary>
    public static long Write(string path, HfTokenizer tokenizer, PretrainRecipe recipe, RecordSplit split, IReadOnlyDictionary<int, int> counts,
        bool probe = false, bool withoutDocument = false)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (tokenizer.VocabSize > ushort.MaxValue) throw new ArgumentException("The export stores token ids as uint16.");
        var r0 = recipe with { ContextLossWeight = 0f };
        if (probe) r0 = r0 with { AskTurnProbability = 0, ChainOfThoughtProbability = 0, QuestionsPerRecord = 0 };
        var builder = new SequenceBuilder(tokenizer, r0);
        var generator = recipe.Generator(split);
        var temp = path + ".tmp";
        long total = 0;
        using (var file = File.Create(temp))
        using (var gz = new GZipStream(file, CompressionLevel.Optimal))
        using (var w = new BinaryWriter(gz))
        {
            foreach (var (records, n) in counts.OrderBy(kv => kv.Key))
            {
                for (var i = 0; i < n; i++)
                {
                    var index = (long)records * 100_000 + i;
                    var doc = generator.Document(index, records);
                    if (withoutDocument) doc = doc with { Text = "" };
                    var rng = generator.StreamRng("export", index);
                    // Training pools carry the recipe's recall drills too (keyed data), in the share the sampler uses.
                    var drill = !probe && recipe.DrillShare > 0 && recipe.Facts.IsKeyed() && rng.NextDouble() < recipe.DrillShare;
                    var seq = drill ? builder.DrillSequence(doc, rng) : probe ? builder.Build(generator, doc, rng) : builder.Chat(generator, doc, rng);
                    var length = Math.Min(seq.Length, recipe.MaxPositions);
                    w.Write(records);
                    w.Write(length);
                    for (var k = 0; k < length; k++) w.Write((ushort)seq.Tokens[k]);
                    for (var k = 0; k < length; k++) w.Write((byte)(seq.Weights[k] > 0 ? 1 : 0));
                    total += length;
                }
            }
        }
        File.Move(temp, path, overwrite: true);
        return total;
    }
}
