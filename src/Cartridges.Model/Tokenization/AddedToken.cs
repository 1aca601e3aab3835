// One entry of tokenizer.json's `added_tokens`: text matched before pre-tokenization and given a fixed id.
namespace Cartridges.Model.Tokenization;

/// <summary>An added token; <see cref="Special"/> ones are dropped by decoding with skipSpecial.</summary>
readonly record struct AddedToken(int Id, string Content, bool Special);
