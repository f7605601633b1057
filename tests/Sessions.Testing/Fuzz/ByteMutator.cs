using System.Text;

namespace Sessions.Testing.Fuzz;

/// <summary>
/// Seeded byte- and text-level mutations of a valid input (AFL-style: bit flips, interesting bytes, inserted, deleted,
/// repeated and spliced ranges, truncation). Same seed, same sequence: a failing case is reproduced from its seed and index.
/// </summary>
public sealed class ByteMutator(Random random)
{
    static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7f, 0x80, 0xc0, 0xff, (byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[',
        (byte)']', (byte)',', (byte)':', (byte)'=', (byte)'-', (byte)'+', (byte)'/', (byte)'_', (byte)'.', (byte)' ', (byte)'\t', (byte)'\n'];

    /// <summary>Fragments that break parsers: escapes, surrogates, huge and negative numbers, BOM, literals, deep nesting.</summary>
    public static readonly string[] InterestingFragments =
    [
        "\\u0000", "\\ud800", "\\udfff", "\\\"", "\\", "\"", "null", "true", "-1", "-0", "1e309", "-1e309", "1.5", "0x10",
        "115792089237316195423570985008687907853269984665640564039457584007913129639936", "99999999999999999999", "-10000", "",
        "\u00e9", "\u202e", "\u200b", "\ud83d\ude00", "\uFEFF", "\u0000", "[[[[[[[[[[[[[[[[", "{\"a\":{\"a\":{\"a\":", ",", ":", "}", "]",
    ];

    public Random Random => random;

    /// <summary>One to four stacked mutations of <paramref name="input"/>; <paramref name="other"/> is the splice partner.</summary>
    public byte[] Mutate(ReadOnlySpan<byte> input, ReadOnlySpan<byte> other = default)
    {
        var bytes = new List<byte>(input.ToArray());
        var rounds = 1 + random.Next(4);
        for (var round = 0; round < rounds; round++)
            MutateOnce(bytes, other);
        return [.. bytes];
    }

    /// <summary>The same on text, through its UTF-8 bytes; invalid UTF-8 comes back as U+FFFD (headers are text).</summary>
    public string Mutate(string input, string? other = null) =>
        Encoding.UTF8.GetString(Mutate(Encoding.UTF8.GetBytes(input), other is null ? default : Encoding.UTF8.GetBytes(other)));

    void MutateOnce(List<byte> bytes, ReadOnlySpan<byte> other)
    {
        var position = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
        switch (random.Next(10))
        {
            case 0 when bytes.Count > 0:
                bytes[position] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when bytes.Count > 0:
                bytes[position] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 2:
                bytes.InsertRange(position, Encoding.UTF8.GetBytes(InterestingFragments[random.Next(InterestingFragments.Length)]));
                break;
            case 3 when bytes.Count > 0:
                bytes.RemoveRange(position, Math.Min(bytes.Count - position, 1 + random.Next(8)));
                break;
            case 4 when bytes.Count > 0:
                bytes.RemoveRange(position, bytes.Count - position);   // truncation
                break;
            case 5 when bytes.Count > 0:
                var length = Math.Min(bytes.Count - position, 1 + random.Next(32));
                var chunk = bytes.GetRange(position, length);
                for (var copies = random.Next(1, 4); copies > 0; copies--)
                    bytes.InsertRange(position, chunk);
                break;
            case 6 when other.Length > 0:
                var from = random.Next(other.Length);
                var spliced = other[from..].ToArray();
                bytes.RemoveRange(position, bytes.Count - position);
                bytes.AddRange(spliced);
                break;
            case 7:
                bytes.Insert(position, (byte)random.Next(256));
                break;
            case 8 when bytes.Count > 1:
                var a = random.Next(bytes.Count);
                var b = random.Next(bytes.Count);
                (bytes[a], bytes[b]) = (bytes[b], bytes[a]);
                break;
            default:
                bytes.Insert(position, InterestingBytes[random.Next(InterestingBytes.Length)]);
                break;
        }
    }

    /// <summary>Random text: printable ASCII, a header-ish alphabet, or any UTF-16 (lone surrogates included).</summary>
    public string RandomText(int maxLength)
    {
        var length = random.Next(maxLength + 1);
        var builder = new StringBuilder(length);
        var alphabet = random.Next(3);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet switch
            {
                0 => (char)random.Next(0x20, 0x7f),
                1 => "ABCDEFabcdef0123456789+/=-_. ,\"\\"[random.Next(32)],
                _ => (char)random.Next(0, 0x10000),
            });
        }
        return builder.ToString();
    }
}
