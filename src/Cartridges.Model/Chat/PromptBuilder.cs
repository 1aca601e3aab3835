// A rendered prompt that remembers which characters are the template's markup and which are message content, so
// encoding can turn special-token text into control ids in the markup only. Content that spells "<|eot_id|>" stays
// text: a user, a system prompt or a corpus cannot forge turns.
using System.Text;

namespace Cartridges.Model.Chat;

/// <summary>Builds prompt text from markup and content pieces.</summary>
public sealed class PromptBuilder
{
    readonly StringBuilder _text = new();
    readonly List<(int Start, int End)> _content = [];

    /// <summary>Appends template markup (special tokens allowed).</summary>
    public PromptBuilder Markup(string text)
    {
        _text.Append(text);
        return this;
    }

    /// <summary>Appends message content (never special tokens).</summary>
    public PromptBuilder Content(string text)
    {
        if (text.Length == 0) return this;
        var start = _text.Length;
        _text.Append(text);
        // Adjacent content pieces merge, so a special token spelled across two of them is still text.
        if (_content.Count > 0 && _content[^1].End == start) _content[^1] = (_content[^1].Start, _text.Length);
        else _content.Add((start, _text.Length));
        return this;
    }

    /// <summary>The prompt text.</summary>
    public string Text => _text.ToString();

    /// <summary>True when [offset, offset + length) lies wholly in markup.</summary>
    public bool IsMarkup(int offset, int length)
    {
        var end = offset + length;
        foreach (var (s, e) in _content)
        {
            if (offset < e && end > s) return false;
        }
        return true;
    }
}
