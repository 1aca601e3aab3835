// Self-study sampling without a model run (method §3.1-3.3): chunk bounds, seed prompt family frequencies and
// the chain-of-thought rate, the shipped corpora, and corpus reading.
using System.Text;
using Cartridges.Training.Synthesis;
using Cartridges.Training.Tests.Support;

namespace Cartridges.Training.Tests.Synthesis;

/// <summary>Chunker, seed prompts and corpus text.</summary>
public sealed class ChunkerAndSeedPromptTests
{
    [Theory]
    [InlineData("lighthouse-chronicle.txt")]
    [InlineData("orchard-ledger.txt")]
    public void ShippedCorpora_AreLongPublicDomainText(string name)
    {
        var text = TinyModels.Corpus(name);
        Assert.StartsWith("This text was written for the Cartridges.Cluster project", text);
        Assert.Contains("public domain (CC0", text.Split('\n')[0]);
        Assert.True(text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length >= 3500);
        Assert.True(TinyModels.Tokenizer().Encode(text).Count >= 4500);
    }

    [Fact]
    public void Chunks_StayInsideTheCorpus_WithLengthsInBounds_AndTheDescriptionFirst()
    {
        var tok = TinyModels.Tokenizer();
        var tokens = tok.Encode(TinyModels.Corpus("lighthouse-chronicle.txt"));
        var chunker = new TokenChunker(tok, tokens, 64, 256, "Below is a history of a lighthouse.");
        var rng = new Random(7);
        int shortest = int.MaxValue, longest = 0, lowestOffset = int.MaxValue, highestEnd = 0;
        for (var i = 0; i < 400; i++)
        {
            var c = chunker.Sample(rng);
            Assert.InRange(c.Length, 64, 256);
            Assert.InRange(c.Offset, 0, tokens.Count - c.Length);
            Assert.Equal($"Below is a history of a lighthouse.\n\n{tok.Decode(tokens.Skip(c.Offset).Take(c.Length))}", c.Text);
            (shortest, longest) = (Math.Min(shortest, c.Length), Math.Max(longest, c.Length));
            (lowestOffset, highestEnd) = (Math.Min(lowestOffset, c.Offset), Math.Max(highestEnd, c.Offset + c.Length));
        }
        // Uniform lengths and offsets reach both ends of their ranges.
        Assert.True(shortest < 72 && longest > 248, $"lengths {shortest}..{longest}");
        Assert.True(lowestOffset < tokens.Count / 10 && highestEnd > tokens.Count * 9 / 10, $"offsets {lowestOffset}..{highestEnd}");

        var again = new TokenChunker(tok, tokens, 64, 256, "Below is a history of a lighthouse.");
        Assert.Equal(chunker.Sample(new Random(3)), again.Sample(new Random(3)));
    }

    [Fact]
    public void Chunks_OfAShortCorpus_AreTheWholeCorpus()
    {
        var tok = TinyModels.Tokenizer();
        var tokens = tok.Encode("A very short corpus about apples.");
        var c = new TokenChunker(tok, tokens, 512, 4096).Sample(new Random(1));
        Assert.Equal((0, tokens.Count), (c.Offset, c.Length));
        Assert.Equal(TokenChunker.DefaultDescription + "\n\nA very short corpus about apples.", c.Text);
    }

    [Fact]
    public void Chunker_RejectsBadSettings()
    {
        var tok = TinyModels.Tokenizer();
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new TokenChunker(tok, [], 1, 2)).Message);
        Assert.Contains("min <= max", Assert.Throws<ArgumentException>(() => new TokenChunker(tok, [1, 2, 3], 5, 4)).Message);
        Assert.Contains("single line", Assert.Throws<ArgumentException>(() => new TokenChunker(tok, [1, 2, 3], 1, 2, "two\nlines")).Message);
    }

    [Fact]
    public void SeedPrompts_FamiliesAreUniform_AndChainOfThoughtIsAppendedOneTimeInFive()
    {
        const int n = 60_000;
        var rng = new Random(11);
        var families = new Dictionary<SeedPromptFamily, int>();
        var formats = new HashSet<string>();
        var cot = 0;
        for (var i = 0; i < n; i++)
        {
            var seed = SeedPrompts.Sample(rng);
            families[seed.Family] = families.GetValueOrDefault(seed.Family) + 1;
            Assert.DoesNotContain("{format}", seed.Text);
            if (seed.Family == SeedPromptFamily.Structuring) formats.UnionWith(SeedPrompts.Formats.Where(f => seed.Text.Contains($" {f}", StringComparison.Ordinal)));
            if (SeedPrompts.SampleChainOfThought(rng, 0.2) is not null) cot++;
        }
        Assert.Equal(SeedPrompts.Families.OrderBy(f => f), families.Keys.OrderBy(f => f));
        // Binomial standard deviation at n = 60k is 0.0016; 0.01 is over six of them.
        Assert.All(families.Values, count => Assert.InRange(count / (double)n, 0.19, 0.21));
        Assert.InRange(cot / (double)n, 0.19, 0.21);
        Assert.Equal(SeedPrompts.Formats.Count, formats.Count);
        Assert.All(SeedPrompts.Families, f => Assert.True(SeedPrompts.Wordings(f).Count >= 3));

        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(SeedPromptFamily.Generic, SeedPrompts.Sample(rng, generic: true).Family));
        Assert.Null(SeedPrompts.SampleChainOfThought(rng, 0));
        Assert.NotNull(SeedPrompts.SampleChainOfThought(rng, 1));
        Assert.Equal("Q?\n\nThink.", SeedPrompts.WithChainOfThought("Q? ", "Think."));
    }

    [Fact]
    public void CorpusText_RejectsInvalidUtf8AndEmptyFiles_NamingThem()
    {
        var dir = TinyModels.TempDir();
        try
        {
            var bad = Path.Combine(dir, "latin1.txt");
            File.WriteAllBytes(bad, [.. "Caf"u8, 0xE9, .. " au lait"u8]);
            var e = Assert.Throws<InvalidDataException>(() => CorpusText.Read(bad));
            Assert.Contains(bad, e.Message);
            Assert.Contains("not valid UTF-8", e.Message);

            var empty = Path.Combine(dir, "empty.txt");
            File.WriteAllText(empty, " \n\t ");
            Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => CorpusText.Read(empty)).Message);

            var bom = Path.Combine(dir, "bom.txt");
            File.WriteAllBytes(bom, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("Grüße")]);
            Assert.Equal("Grüße", CorpusText.Read(bom));
            Assert.Throws<FileNotFoundException>(() => CorpusText.Read(Path.Combine(dir, "missing.txt")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
