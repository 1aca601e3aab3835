// A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) for byte-level BPE models: GPT-2, Llama-3,
// Qwen2/3. Added tokens and pre-tokenization follow the tokenizers library (HfPreTokenizer); the merges run in
// Microsoft.ML.Tokenizers' BpeTokenizer, which 2.0.1 cannot build from tokenizer.json itself. Decoding maps ids
// to bytes here, so generated text can be streamed without cutting UTF-8 characters (StreamingDecoder).
using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Cartridges.Model.Tokenization;

/// <summary>A byte-level BPE tokenizer loaded from a Hugging Face model directory.</summary>
public sealed class HfTokenizer
{
    /// <summary>The tokenizers-library file holding vocabulary, merges and added tokens.</summary>
    public const string TokenizerFileName = "tokenizer.json";

    /// <summary>The transformers file naming bos/eos/pad tokens.</summary>
    public const string ConfigFileName = "tokenizer_config.json";

    readonly BpeTokenizer _bpe;
    readonly HfPreTokenizer _preTokenizer;
    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<string, int> _added;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _addedBySpan;
    readonly byte[]?[] _bytesById;
    readonly bool[] _specialById;
    readonly bool _ignoreMerges;
    readonly bool _nfc;

    HfTokenizer(TokenizerDefinition definition, string path, string configPath, (string? Bos, string? Eos, string? Pad) roles)
    {
        _vocab = new Dictionary<string, int>(definition.Vocab, StringComparer.Ordinal);
        _added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in definition.AddedTokens)
            _added[token.Content] = token.Id;
        _addedBySpan = _added.GetAlternateLookup<ReadOnlySpan<char>>();
        _ignoreMerges = definition.IgnoreMerges;
        _nfc = definition.NfcNormalize;
        _preTokenizer = new HfPreTokenizer(_added.Keys, definition.Splits);

        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(_vocab)
            {
                Merges = definition.Merges,
                ByteLevel = true,
                PreTokenizer = _preTokenizer,
                SpecialTokens = _added,
            });
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: the BPE model is inconsistent ({e.Message})", e);
        }

        var size = Math.Max(_vocab.Values.Max(), definition.AddedTokens.Count == 0 ? -1 : definition.AddedTokens.Max(t => t.Id)) + 1;
        _bytesById = new byte[]?[size];
        _specialById = new bool[size];
        foreach (var (token, id) in _vocab)
            _bytesById[id] = ByteLevelAlphabet.Decode(token);
        // Added tokens decode to their text; they win over a vocabulary entry with the same id (GPT-2's <|endoftext|>).
        foreach (var token in definition.AddedTokens)
        {
            _bytesById[token.Id] = Encoding.UTF8.GetBytes(token.Content);
            _specialById[token.Id] = token.Special;
        }

        BosId = Resolve(configPath, "bos_token", roles.Bos);
        EosId = Resolve(configPath, "eos_token", roles.Eos);
        PadId = Resolve(configPath, "pad_token", roles.Pad);
    }

    /// <summary>Max id + 1 over vocabulary and added tokens; a model's embedding may have more rows.</summary>
    public int VocabSize => _bytesById.Length;

    /// <summary>The id of tokenizer_config.json's bos_token, if it names one.</summary>
    public int? BosId { get; }

    /// <summary>The id of tokenizer_config.json's eos_token, if it names one.</summary>
    public int? EosId { get; }

    /// <summary>The id of tokenizer_config.json's pad_token, if it names one.</summary>
    public int? PadId { get; }

    /// <summary>Loads <c>tokenizer.json</c> (and <c>tokenizer_config.json</c> when present) from a model directory.</summary>
    /// <exception cref="FileNotFoundException">tokenizer.json is missing.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or describes an unsupported tokenizer.</exception>
    public static HfTokenizer Load(string modelDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDir);
        var path = Path.Combine(modelDir, TokenizerFileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: not found; the model directory has no {TokenizerFileName}", path);
        var definition = TokenizerJsonReader.Read(path);
        var configPath = Path.Combine(modelDir, ConfigFileName);
        return new HfTokenizer(definition, path, configPath, TokenizerJsonReader.ReadConfig(configPath));
    }

    /// <summary>
    /// Token ids for <paramref name="text"/>; no BOS is added. Text is content: an added token's text written in it
    /// (e.g. "&lt;|eot_id|&gt;" typed by a user or found in a corpus) is encoded as ordinary text, so content can never
    /// forge control tokens. <paramref name="specialTokens"/> maps such text to the added tokens' ids instead, for
    /// trusted markup only (prompt formats the caller wrote itself).
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool specialTokens = false) => Encode(text, specialTokens ? null : static (_, _) => false);

    /// <summary>
    /// Token ids for <paramref name="text"/> where an added token's text becomes its id only where
    /// <paramref name="addedAllowed"/> (offset, length) allows it (null: everywhere) — how a chat template keeps the
    /// markup it writes apart from the content it embeds.
    /// </summary>
    public IReadOnlyList<int> Encode(string text, Func<int, int, bool>? addedAllowed)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Qwen's NFC step. Under InvariantGlobalization (this repo) string.Normalize leaves text as it is, so
        // decomposed input tokenizes differently from transformers; NFC input, nearly all text, is unaffected.
        if (_nfc)
            text = text.Normalize(NormalizationForm.FormC);
        var ids = new List<int>(text.Length / 3 + 4);
        foreach (var (offset, length) in _preTokenizer.Split(text, addedAllowed))
        {
            var piece = text.AsSpan(offset, length);
            if ((addedAllowed is null || addedAllowed(offset, length)) && _addedBySpan.TryGetValue(piece, out var id))
                ids.Add(id);
            // ignore_merges (Llama-3): a piece that is itself a vocabulary token is taken whole, as tiktoken does.
            else if (_ignoreMerges && _vocab.TryGetValue(ByteLevelAlphabet.EncodeText(piece), out id))
                ids.Add(id);
            else
                ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
        }
        return ids;
    }

    /// <summary>The id of an added (special or not) token such as <c>&lt;|eot_id|&gt;</c>.</summary>
    /// <exception cref="ArgumentException">The tokenizer has no such added token.</exception>
    public int EncodeSpecial(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _added.TryGetValue(token, out var id)
            ? id
            : throw new ArgumentException($"'{token}' is not an added token of this tokenizer", nameof(token));
    }

    /// <summary>The id of an added token, or of a vocabulary entry in its byte-level spelling (e.g. "Ġthe").</summary>
    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _added.TryGetValue(token, out id) || _vocab.TryGetValue(token, out id);
    }

    /// <summary>
    /// The text of <paramref name="ids"/>. Ids the tokenizer lacks (a padded embedding's extra rows) decode to
    /// nothing, as in transformers; invalid UTF-8 becomes U+FFFD.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var id in ids)
            buffer.Write(TokenBytes(id, skipSpecial));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A decoder that turns ids into text as they are generated, holding back incomplete characters.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecial = false) => new(this, skipSpecial);

    /// <summary>The UTF-8 bytes token <paramref name="id"/> stands for (a special token's are its text; an unknown id has none).</summary>
    public byte[] GetTokenBytes(int id) => TokenBytes(id, skipSpecial: false).ToArray();

    internal ReadOnlySpan<byte> TokenBytes(int id, bool skipSpecial)
    {
        if ((uint)id >= (uint)_bytesById.Length || (skipSpecial && _specialById[id]))
            return default;
        return _bytesById[id];
    }

    int? Resolve(string configPath, string key, string? token)
    {
        if (token is null)
            return null;
        return TryGetId(token, out var id)
            ? id
            : throw new InvalidDataException($"{configPath}: {key} '{token}' is not a token of {TokenizerFileName}");
    }
}
