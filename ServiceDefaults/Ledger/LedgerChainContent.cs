using System.Text;
using Sessions.Payments.Mpp;

namespace Sessions.ServiceDefaults.Ledger;

/// <summary>
/// A movement's canonical content: the text Postgres gives for <c>jsonb_build_object(key, value, ...)::text</c> when every
/// value is text or NULL (docs/ledger-chain.md), built from the values instead of by Postgres: the jsonb object and its
/// text cost Postgres about 5 µs per row in every chainer pass and verification (docs/benchmarks.md, eleventh look).
/// jsonb's text: keys shortest first, then by their bytes; <c>", "</c> between members and <c>": "</c> after a key;
/// strings escaped as Postgres's <c>escape_json</c> does, which is how JCS escapes them (<see cref="Jcs.WriteString"/>).
/// </summary>
public static class LedgerChainContent
{
    /// <summary>The content of values[i] under fields[i].</summary>
    public static string Build(IReadOnlyList<LedgerChainField> fields, int[] keyOrder, IReadOnlyList<string?> values)
    {
        var text = new StringBuilder(64 * fields.Count);
        text.Append('{');
        var first = true;
        foreach (var i in keyOrder)
        {
            var value = values[i];
            if (value is null && fields[i].OmitWhenNull)
                continue;
            if (!first)
                text.Append(", ");
            first = false;
            Jcs.WriteString(fields[i].Key, text);
            text.Append(": ");
            if (value is null)
                text.Append("null");
            else
                Jcs.WriteString(value, text);
        }
        return text.Append('}').ToString();
    }

    /// <summary>The fields' indexes in jsonb's key order. Keys must be distinct (jsonb would keep the last of equal ones).</summary>
    public static int[] KeyOrder(IReadOnlyList<LedgerChainField> fields)
    {
        var keys = fields.Select(f => Encoding.UTF8.GetBytes(f.Key)).ToList();
        if (fields.Select(f => f.Key).Distinct(StringComparer.Ordinal).Count() != fields.Count)
            throw new ArgumentException("Content keys must be distinct.", nameof(fields));
        return Enumerable.Range(0, fields.Count)
            .OrderBy(i => keys[i].Length)
            .ThenBy(i => keys[i], Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)))
            .ToArray();
    }
}
