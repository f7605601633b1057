using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sessions.Deploy;

/// <summary>An ordered YAML mapping (keys keep the order they were added in).</summary>
public sealed class YamlMap : List<KeyValuePair<string, object?>>
{
    public void Add(string key, object? value) => Add(new KeyValuePair<string, object?>(key, value));
}

/// <summary>
/// Block-style YAML for maps, lists and scalars. Strings are written plain when YAML reads them back as the same string,
/// otherwise double-quoted with JSON escapes (valid YAML), so the output needs no YAML library to be right.
/// </summary>
public static partial class Yaml
{
    public static string Write(object value, string? header = null)
    {
        var text = new StringBuilder();
        if (header is not null)
            foreach (var line in header.Split('\n')) text.Append("# ").Append(line).Append('\n');
        WriteNode(text, value, 0);
        return text.ToString();
    }

    /// <summary>Several documents separated by <c>---</c>.</summary>
    public static string WriteDocuments(IEnumerable<object> documents, string? header = null) =>
        string.Join("---\n", documents.Select((d, i) => Write(d, i == 0 ? header : null)));

    static void WriteNode(StringBuilder text, object value, int indent)
    {
        switch (value)
        {
            case YamlMap map:
                foreach (var (key, item) in map)
                {
                    if (item is null) continue;
                    text.Append(' ', indent).Append(Scalar(key)).Append(':');
                    WriteChild(text, item, indent);
                }
                break;
            case IEnumerable<object> list:
                foreach (var item in list)
                {
                    text.Append(' ', indent).Append('-');
                    if (item is YamlMap map && map.Count > 0)
                    {
                        // The first key on the dash's line, the rest aligned under it.
                        var nested = new StringBuilder();
                        WriteNode(nested, map, indent + 2);
                        text.Append(' ').Append(nested.ToString()[(indent + 2)..]);
                    }
                    else WriteChild(text, item, indent);
                }
                break;
            default:
                text.Append(Scalar(value)).Append('\n');
                break;
        }
    }

    static void WriteChild(StringBuilder text, object item, int indent)
    {
        if (item is YamlMap { Count: 0 }) text.Append(" {}\n");
        else if (item is YamlMap) { text.Append('\n'); WriteNode(text, item, indent + 2); }
        else if (item is IEnumerable<object> list && item is not string)
        {
            if (!list.Any()) { text.Append(" []\n"); return; }
            text.Append('\n');
            WriteNode(text, item, indent + 2);
        }
        else text.Append(' ').Append(Scalar(item)).Append('\n');
    }

    // JSON escapes are YAML double-quoted escapes; the relaxed encoder keeps quotes and '+' readable (\" instead of \u0022).
    static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string Scalar(object value) => value switch
    {
        bool b => b ? "true" : "false",
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        string s when PlainSafe().IsMatch(s) && !Reserved().IsMatch(s) => s,
        string s => JsonSerializer.Serialize(s, Quoting),
        _ => throw new ArgumentException($"no YAML scalar for {value.GetType().Name}"),
    };

    // Plain scalars that read back as strings: no indicator first, no ": " or " #", no leading/trailing space.
    [GeneratedRegex(@"^[A-Za-z_/.$][A-Za-z0-9_./:\-${}=;,@ ]*$")]
    private static partial Regex PlainSafe();

    // Strings YAML would read as something else (booleans, null, numbers), or with ": " / " #" / a trailing space.
    [GeneratedRegex(@"^(true|false|yes|no|on|off|null|y|n|~)$|^[0-9.+-]+$|: | #|\s$|^\$", RegexOptions.IgnoreCase)]
    private static partial Regex Reserved();
}
