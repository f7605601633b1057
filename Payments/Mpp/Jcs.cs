using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sessions.Payments.Mpp;

/// <summary>
/// JSON Canonicalization Scheme (RFC 8785): object members sorted by UTF-16 code units, no whitespace,
/// strings escaped as ECMAScript JSON.stringify does, numbers in ECMAScript Number::toString form.
/// MPP hashes and echoes its `request` in this form, so both sides must produce identical bytes.
/// </summary>
public static class Jcs
{
    private static readonly SearchValues<char> PlainAscii = SearchValues.Create(
        string.Concat(Enumerable.Range(0x20, 0x7f - 0x20).Select(c => (char)c).Where(c => c is not ('"' or '\\'))));

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>Canonical text of a JSON value. Throws <see cref="FormatException"/> on non-finite
    /// numbers, lone surrogates or duplicate member names (RFC 8785 requires refusing them).</summary>
    public static string Canonicalize(JsonElement element)
    {
        var builder = new StringBuilder();
        Write(element, builder);
        return builder.ToString();
    }

    public static byte[] CanonicalizeToUtf8(JsonElement element) => Encoding.UTF8.GetBytes(Canonicalize(element));

    /// <summary>Parses then canonicalizes; failures (bad JSON, duplicates, ...) as a value.</summary>
    public static bool TryCanonicalize(string json, out string canonical, out string? error)
    {
        canonical = "";
        try
        {
            using var document = JsonDocument.Parse(json, ParseOptions);
            canonical = Canonicalize(document.RootElement);
            error = null;
            return true;
        }
        // ArgumentException: a lone surrogate in the .NET string cannot even be read as JSON.
        catch (Exception exception) when (exception is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            error = exception.Message;
            return false;
        }
    }

    /// <summary>ECMAScript Number::toString for a finite double (-0 becomes "0").</summary>
    public static string FormatNumber(double value)
    {
        if (!double.IsFinite(value))
            throw new FormatException("JCS cannot represent NaN or Infinity.");
        if (value == 0)
            return "0";
        if (value < 0)
            return "-" + FormatNumber(-value);

        // .NET's default formatting is the shortest round-trip digit string; re-lay it out ES-style.
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var exponentIndex = text.IndexOf('E');
        var mantissa = exponentIndex < 0 ? text : text[..exponentIndex];
        var exponent = exponentIndex < 0 ? 0 : int.Parse(text.AsSpan(exponentIndex + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.');
        var digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        var n = (dot < 0 ? mantissa.Length : dot) + exponent; // value = 0.digits × 10^n
        var trimmed = digits.TrimStart('0');
        n -= digits.Length - trimmed.Length;
        digits = trimmed.TrimEnd('0');
        var k = digits.Length;

        if (k <= n && n <= 21)
            return digits + new string('0', n - k);
        if (0 < n && n <= 21)
            return digits[..n] + "." + digits[n..];
        if (-6 < n && n <= 0)
            return "0." + new string('0', -n) + digits;
        var e = n - 1;
        var sign = e >= 0 ? "+" : "-";
        var head = k == 1 ? digits : digits[..1] + "." + digits[1..];
        return head + "e" + sign + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
    }

    private static void Write(JsonElement element, StringBuilder output)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = element.EnumerateObject().Select(p => (p.Name, p.Value)).ToList();
                members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                output.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0 && members[i].Name == members[i - 1].Name)
                        throw new FormatException($"Duplicate member name '{members[i].Name}'.");
                    if (i > 0)
                        output.Append(',');
                    WriteString(members[i].Name, output);
                    output.Append(':');
                    Write(members[i].Value, output);
                }
                output.Append('}');
                break;
            case JsonValueKind.Array:
                output.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                        output.Append(',');
                    first = false;
                    Write(item, output);
                }
                output.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!, output);
                break;
            case JsonValueKind.Number:
                if (!element.TryGetDouble(out var number) || !double.IsFinite(number))
                    throw new FormatException($"Number {element.GetRawText()} is outside the IEEE-754 double range.");
                output.Append(FormatNumber(number));
                break;
            case JsonValueKind.True:
                output.Append("true");
                break;
            case JsonValueKind.False:
                output.Append("false");
                break;
            case JsonValueKind.Null:
                output.Append("null");
                break;
            default:
                throw new FormatException($"Cannot canonicalize a JSON value of kind {element.ValueKind}.");
        }
    }

    /// <summary>
    /// A JSON string as JCS (ES6 <c>JSON.stringify</c>) writes it: <c>\" \\ \b \f \n \r \t</c>, other control characters as
    /// <c>\u00xx</c> in lower case, everything else as it is; a lone surrogate is refused. Postgres's <c>escape_json</c> (jsonb's
    /// text) writes the same, which the ledger chain's content relies on.
    /// </summary>
    public static void WriteString(string value, StringBuilder output)
    {
        output.Append('"');
        // Printable ASCII but for the quote and the backslash is written as it is: copied in one piece up to the first other
        // character (most values have none: ids, amounts, times). The ledger chainer writes a dozen strings per movement.
        var plain = value.AsSpan().IndexOfAnyExcept(PlainAscii);
        if (plain < 0)
        {
            output.Append(value).Append('"');
            return;
        }
        output.Append(value, 0, plain);
        for (var i = plain; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append("\\\\"); break;
                case '\b': output.Append("\\b"); break;
                case '\f': output.Append("\\f"); break;
                case '\n': output.Append("\\n"); break;
                case '\r': output.Append("\\r"); break;
                case '\t': output.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        output.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsSurrogate(c))
                    {
                        if (!char.IsHighSurrogate(c) || i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                            throw new FormatException("Lone surrogate in a JSON string.");
                        output.Append(c).Append(value[++i]);
                    }
                    else
                    {
                        output.Append(c);
                    }
                    break;
            }
        }
        output.Append('"');
    }
}
