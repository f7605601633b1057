using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sessions.Testing.Fuzz;

/// <summary>
/// Seeded, reproducible JSON bodies for fuzzing decoders of outside input: mutations of valid bodies (a value replaced by one
/// of another type or an edge value, a member dropped, added, repeated or renamed in another case, nesting, text damage) and
/// random JSON and non-JSON. The same seed gives the same sequence; a failing case names its seed and index.
/// </summary>
public sealed class JsonFuzz(int seed)
{
    readonly Random _random = new(seed);

    public int Seed { get; } = seed;

    static readonly string[] EdgeValues =
    [
        "null", "true", "false", "0", "-1", "1", "100000", "-100000", "1.5", "1e400", "-1e400", "1e-400", "9223372036854775808",
        "-9223372036854775809", "340282366920938463463374607431768211456", "0.0000001", "\"\"", "\" \"", "\"0\"", "\"-1\"",
        "\"100000\"", "\"1e3\"", "\"0x10\"", "\"١٢٣\"", "\"１２３\"", "\"100000 \"", "\"+5\"", "\"00000000000000000000000001\"",
        "\"99999999999999999999999999999999999999999999999999999999999999999999999999999999\"", "\"NaN\"", "\"Infinity\"",
        "\"\\u0000\"", "\"\\ud800\"", "\"../../etc/passwd\"", "\"%2e%2e/\"", "\"<script>\"", "\"' OR 1=1 --\"", "\"a\\nb\"",
        "\"pass\"", "\"prepaid\"", "\"PASS\"", "\"demo\"", "\"tools/call\"", "\"2.0\"", "[]", "[null]", "[1,2,3]", "{}",
        "{\"a\":1}", "\"2026-01-01T00:00:00Z\"", "\"not-a-date\"", "\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"",
    ];

    static readonly string[] Garbage =
    [
        "", " ", "null", "{", "}", "[", "{\"", "{\"a\"", "{\"a\":", "{\"a\":}", "{,}", "{\"a\":1,}", "[1,]", "{'a':1}", "{a:1}",
        "\"unterminated", "\u00ef\u00bb\u00bf{}", "{\"a\":1}{\"b\":2}", "{\"a\":1} x", "NaN", "--1", "0x10", "{\"a\":01}",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "/* c */ {}", "{\"a\":1 // c\n}", "\u0000", "tru", "nul", "\"\\",
    ];

    public int Next(int max) => _random.Next(max);

    /// <summary><paramref name="count"/> bodies: about 70% mutations of the <paramref name="valid"/> ones, the rest random.</summary>
    public IEnumerable<string> Cases(IReadOnlyList<string> valid, int count)
    {
        for (var i = 0; i < count; i++)
            yield return _random.Next(10) switch
            {
                < 7 => Mutate(valid[_random.Next(valid.Count)]),
                7 => RandomValue(depth: 0),
                8 => Garbage[_random.Next(Garbage.Length)],
                _ => RandomText(),
            };
    }

    /// <summary>One to three mutations of a valid JSON body.</summary>
    public string Mutate(string valid)
    {
        var text = valid;
        for (var n = 1 + _random.Next(3); n > 0; n--)
            text = _random.Next(10) < 7 && TryParse(text) is { } node ? TryMutateStructure(node, text) : MutateText(text);
        return text;
    }

    static JsonNode? TryParse(string text)
    {
        try
        {
            // Structure is mutated on bodies without repeated members only (JsonObject cannot hold them); text damage does the rest.
            var node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 256, AllowDuplicateProperties = false });
            Collect(node, []);
            return node;
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    string TryMutateStructure(JsonNode root, string text)
    {
        try
        {
            return MutateStructure(root, text);
        }
        catch (InvalidOperationException)
        {
            return MutateText(text); // a value the writer refuses (a lone surrogate escape decoded into a string)
        }
    }

    string MutateStructure(JsonNode root, string text)
    {
        var objects = new List<JsonObject>();
        Collect(root, objects);
        if (objects.Count == 0) return RandomValue(0);
        var target = objects[_random.Next(objects.Count)];
        var names = target.Select(m => m.Key).ToList();
        switch (_random.Next(7))
        {
            case 0 when names.Count > 0:   // a value of another type or an edge value
                target[names[_random.Next(names.Count)]] = JsonNode.Parse(_random.Next(3) == 0 ? RandomValue(1) : Pick(EdgeValues));
                return root.ToJsonString();
            case 1 when names.Count > 0:   // a member missing
                target.Remove(names[_random.Next(names.Count)]);
                return root.ToJsonString();
            case 2:                         // an unknown member
                target[RandomName()] = JsonNode.Parse(Pick(EdgeValues));
                return root.ToJsonString();
            case 3 when names.Count > 0:   // a member renamed in another case
            {
                var name = names[_random.Next(names.Count)];
                var value = target[name]?.DeepClone();
                target.Remove(name);
                target[SwapCase(name)] = value;
                return root.ToJsonString();
            }
            case 4 when names.Count > 0:   // a member repeated, exactly or in another case, before or after the original
            {
                var name = names[_random.Next(names.Count)];
                var repeat = $"\"{(_random.Next(2) == 0 ? name : SwapCase(name))}\":{Pick(EdgeValues)}";
                var json = root.ToJsonString();
                var at = json.IndexOf($"\"{name}\":", StringComparison.Ordinal);
                return at >= 0 && _random.Next(2) == 0 ? json.Insert(at, repeat + ",") : json.Insert(json.LastIndexOf('}'), "," + repeat);
            }
            case 5:                         // deep nesting in place of a value
            {
                var depth = 1 + _random.Next(200);
                var nested = new string('[', depth) + new string(']', depth);
                if (names.Count == 0) return nested;
                target[names[_random.Next(names.Count)]] = JsonNode.Parse(nested, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
                return root.ToJsonString();
            }
            default:
                return MutateText(text);
        }
    }

    string MutateText(string text)
    {
        if (text.Length == 0) return Pick(Garbage);
        var at = _random.Next(text.Length);
        return _random.Next(6) switch
        {
            0 => text.Remove(at, 1),
            1 => text.Insert(at, Pick(["{", "}", "[", "]", "\"", ":", ",", "\\", "0", "-", "e", ".", " ", "\u0000", "\u00e9", "\ud83d\ude00"])),
            2 => text[..at],                                                            // truncated
            3 => text.Insert(at, text[at..Math.Min(text.Length, at + 1 + _random.Next(8))]), // a slice repeated
            4 => Swap(text, at, _random.Next(text.Length)),
            _ => text + Pick(Garbage),
        };
    }

    string RandomValue(int depth) => _random.Next(depth > 3 ? 3 : 6) switch
    {
        0 => Pick(EdgeValues),
        1 => JsonSerializer.Serialize(RandomText()),
        2 => _random.NextInt64(long.MinValue, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture),
        3 => "[" + string.Join(",", Enumerable.Range(0, _random.Next(4)).Select(_ => RandomValue(depth + 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, _random.Next(5)).Select(_ => $"{JsonSerializer.Serialize(RandomName())}:{RandomValue(depth + 1)}")) + "}",
    };

    string RandomName() => Pick(["deposit", "amount", "kind", "ttlSeconds", "organization", "name", "id", "method", "params", "jsonrpc",
        "arguments", "_meta", "key", "value", "content", "title", "$type", "__proto__", "", "Deposit", "AMOUNT", RandomText()]);

    string RandomText()
    {
        var builder = new StringBuilder();
        for (var n = _random.Next(24); n > 0; n--)
            builder.Append(_random.Next(8) == 0 ? (char)_random.Next(0x20, 0xD7FF) : (char)_random.Next(0x20, 0x7F));
        return builder.ToString();
    }

    string SwapCase(string name)
    {
        var swapped = new string(name.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)).ToArray());
        return swapped == name ? name + "_" : swapped;
    }

    static string Swap(string text, int a, int b)
    {
        var chars = text.ToCharArray();
        (chars[a], chars[b]) = (chars[b], chars[a]);
        return new string(chars);
    }

    string Pick(string[] values) => values[_random.Next(values.Length)];

    static void Collect(JsonNode? node, List<JsonObject> objects)
    {
        switch (node)
        {
            case JsonObject o:
                objects.Add(o);
                foreach (var (_, value) in o) Collect(value, objects);
                break;
            case JsonArray a:
                foreach (var item in a) Collect(item, objects);
                break;
        }
    }
}
