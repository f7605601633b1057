using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sessions.Testing.Fuzz;

/// <summary>
/// Seeded header values for a decoder that reads "encode(JSON)" headers (x402 base64, MPP base64url, payer context...):
/// random text, byte mutations of a valid header, the encoding of mutated JSON (wrong types, numbers out of range,
/// negative amounts, duplicate and case-variant keys, unicode, huge strings), other encodings of a valid value.
/// <see cref="Run"/> gives each case to an oracle and fails with the seed, the case index and the input.
/// </summary>
public sealed class HeaderFuzz(int seed, IReadOnlyList<string> validJson, Func<byte[], string> encode)
{
    /// <summary>Values put in place of any JSON value: wrong types, out-of-range and negative numbers, odd strings.</summary>
    static readonly string[] Replacements =
    [
        "-1", "0", "-10000", "1e309", "-1e309", "1.5", "1E2", "-0", "99999999999999999999999",
        "115792089237316195423570985008687907853269984665640564039457584007913129639936", "null", "true", "false", "[]", "{}", "[1,2]",
        "{\"a\":1}", "\"\"", "\"-1\"", "\"-10000\"", "\"1e3\"", "\"0x2710\"", "\" 10000\"", "\"+10000\"", "\"10000.0\"", "\"\\u0661\\u0660\"",
        "\"\\ud800\"", "\"\\u0000\"", "\"\u00e9\u202e\"", "\"\\ud83d\\ude00\"", "\"0x0000000000000000000000000000000000000000\"",
        "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"", "\"-115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
        "\"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"", "\"9999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00Z\"",
    ];

    readonly ByteMutator _mutator = new(new Random(seed));
    readonly List<string> _validHeaders = validJson.Select(json => encode(Encoding.UTF8.GetBytes(json))).ToList();

    public int Seed => seed;
    Random Random => _mutator.Random;

    /// <summary>The next case and the strategy that made it.</summary>
    public (string Input, string Strategy) Next()
    {
        var json = validJson[Random.Next(validJson.Count)];
        var other = validJson[Random.Next(validJson.Count)];
        var header = _validHeaders[Random.Next(_validHeaders.Count)];
        switch (Random.Next(9))
        {
            case 0:
                return (_mutator.RandomText(Random.Next(8) == 0 ? 24_000 : 80), "random text");
            case 1:
                return (_mutator.Mutate(header, _validHeaders[Random.Next(_validHeaders.Count)]), "mutated header");
            case 2:
                return (encode(_mutator.Mutate(Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetBytes(other))), "encoded mutated bytes");
            case 3:
            case 4:
            case 5:
                return (encode(Encoding.UTF8.GetBytes(MutateJson(json))), "encoded mutated JSON");
            case 6:
                return (encode(Encoding.UTF8.GetBytes(DuplicateMember(json))), "encoded duplicate member");
            case 7:
                return (OtherEncoding(header), "other encoding");
            default:
                return (Random.Next(4) switch
                {
                    0 => encode(Encoding.UTF8.GetBytes(Replace(json, "\"" + new string('9', 20_000) + "\""))),
                    1 => string.Concat(Enumerable.Repeat(header, 1 + Random.Next(40))),
                    2 => encode(Encoding.UTF8.GetBytes(new string('[', 200) + new string(']', 200))),
                    _ => header,   // the valid value itself: it must not be the one that breaks
                }, "huge or valid");
        }
    }

    /// <summary>Runs <paramref name="cases"/> cases; an oracle failure or an escaping exception fails with seed, index and input.</summary>
    public static void Run(int seed, int cases, IReadOnlyList<string> validJson, Func<byte[], string> encode, Action<string> oracle)
    {
        var fuzz = new HeaderFuzz(seed, validJson, encode);
        for (var index = 0; index < cases; index++)
        {
            var (input, strategy) = fuzz.Next();
            try
            {
                oracle(input);
            }
            catch (Exception exception)
            {
                Xunit.Assert.Fail(Describe(seed, index, strategy, input, exception));
            }
        }
    }

    /// <summary>The same for an asynchronous oracle (HTTP requests through an in-process service).</summary>
    public static async Task RunAsync(int seed, int cases, IReadOnlyList<string> validJson, Func<byte[], string> encode, Func<string, Task> oracle)
    {
        var fuzz = new HeaderFuzz(seed, validJson, encode);
        for (var index = 0; index < cases; index++)
        {
            var (input, strategy) = fuzz.Next();
            try
            {
                await oracle(input);
            }
            catch (Exception exception)
            {
                Xunit.Assert.Fail(Describe(seed, index, strategy, input, exception));
            }
        }
    }

    /// <summary>For decoders of plain text (auth-params, tokens): random text and byte mutations or splices of valid values.</summary>
    public static void RunText(int seed, int cases, IReadOnlyList<string> validTexts, Action<string> oracle)
    {
        foreach (var (index, input, strategy) in TextCases(seed, cases, validTexts))
        {
            try
            {
                oracle(input);
            }
            catch (Exception exception)
            {
                Xunit.Assert.Fail(Describe(seed, index, strategy, input, exception));
            }
        }
    }

    /// <summary>The same for an asynchronous oracle.</summary>
    public static async Task RunTextAsync(int seed, int cases, IReadOnlyList<string> validTexts, Func<string, Task> oracle)
    {
        foreach (var (index, input, strategy) in TextCases(seed, cases, validTexts))
        {
            try
            {
                await oracle(input);
            }
            catch (Exception exception)
            {
                Xunit.Assert.Fail(Describe(seed, index, strategy, input, exception));
            }
        }
    }

    static IEnumerable<(int Index, string Input, string Strategy)> TextCases(int seed, int cases, IReadOnlyList<string> validTexts)
    {
        var mutator = new ByteMutator(new Random(seed));
        for (var index = 0; index < cases; index++)
        {
            var valid = validTexts[mutator.Random.Next(validTexts.Count)];
            var (input, strategy) = mutator.Random.Next(10) switch
            {
                0 => (mutator.RandomText(mutator.Random.Next(8) == 0 ? 20_000 : 80), "random text"),
                1 => (valid, "valid"),
                _ => (mutator.Mutate(valid, validTexts[mutator.Random.Next(validTexts.Count)]), "mutated"),
            };
            yield return (index, input, strategy);
        }
    }

    public static string Describe(int seed, int index, string strategy, string input, Exception exception) =>
        $"Fuzz seed {seed}, case {index} ({strategy}), input of {input.Length} chars: {Escape(input)}\n{exception}";

    /// <summary>The input as a C# string literal (truncated), to paste into a regression test.</summary>
    public static string Escape(string input)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in input.Length > 3000 ? input[..3000] : input)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                _ when c < 0x20 || c > 0x7e => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return builder.Append(input.Length > 3000 ? "\"…" : "\"").ToString();
    }

    /// <summary>
    /// The value as Kestrel hands it to an app (a test server hands over anything): valid UTF-8, so a lone surrogate arrives
    /// as U+FFFD, and no NUL, CR or LF (Kestrel answers 400 before any app code runs). For fuzzing through a test server.
    /// </summary>
    public static string AsDelivered(string header) =>
        new([.. Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(header)).Where(c => c is not ('\0' or '\r' or '\n'))]);

    /// <summary>Standard base64 with padding, the x402 header encoding.</summary>
    public static string Base64(byte[] bytes) => Convert.ToBase64String(bytes);

    /// <summary>base64url without padding, the MPP and payer-context encoding.</summary>
    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    string OtherEncoding(string header) => Random.Next(5) switch
    {
        0 => header.Replace('+', '-').Replace('/', '_').TrimEnd('='),
        1 => header.Replace('-', '+').Replace('_', '/') + "==",
        2 => " " + header + " \t",
        3 => header.ToLowerInvariant(),
        _ => header.Insert(Random.Next(header.Length + 1), Random.Next(2) == 0 ? "\r\n" : " "),
    };

    // JsonNode cannot hold every replacement (a lone surrogate escape throws when written, duplicate names are refused), so
    // a marker goes into the tree and the raw replacement text into the written JSON.
    const string Marker = "__fuzz_marker__";

    string RandomReplacement() => Replacements[Random.Next(Replacements.Length)];

    /// <summary>One structural change at a random place: a value replaced, a member removed, renamed or added.</summary>
    string MutateJson(string json)
    {
        var root = JsonNode.Parse(json);
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[Random.Next(nodes.Count)];
        var replacement = RandomReplacement();
        var choice = Random.Next(6);
        if (target.Parent is JsonObject parent && choice == 0)
        {
            parent.Remove(target.GetPropertyName());
        }
        else if (target.Parent is JsonObject renamed && choice == 1)
        {
            var name = target.GetPropertyName();
            renamed.Remove(name);
            renamed[Random.Next(2) == 0 ? name.ToUpperInvariant() : name + "\u200b"] = target;
        }
        else if (target is JsonObject added && choice == 2)
        {
            added["extra" + Random.Next(3)] = Marker;
        }
        else if (target.Parent is not null)
        {
            if (Random.Next(8) == 0 && target is JsonValue text && text.TryGetValue<string>(out var s))
                replacement = JsonSerializer.Serialize(Random.Next(2) == 0 ? s.ToUpperInvariant() : s + "\u0000");
            target.ReplaceWith(JsonValue.Create(Marker));
        }
        else
        {
            return replacement;
        }
        return root!.ToJsonString().Replace("\"" + Marker + "\"", replacement);
    }

    /// <summary>A random value in the JSON replaced, e.g. by a huge string.</summary>
    string Replace(string json, string replacement)
    {
        var root = JsonNode.Parse(json);
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var targets = nodes.Where(n => n.Parent is not null).ToList();
        if (targets.Count == 0)
            return replacement;
        targets[Random.Next(targets.Count)].ReplaceWith(JsonValue.Create(Marker));
        return root!.ToJsonString().Replace("\"" + Marker + "\"", replacement);
    }

    /// <summary>A member of a random object written twice (same name or a case variant), the second with another value.</summary>
    string DuplicateMember(string json)
    {
        var root = JsonNode.Parse(json);
        var objects = new List<JsonNode>();
        Collect(root, objects);
        var candidates = objects.OfType<JsonObject>().Where(o => o.Count > 0).ToList();
        if (candidates.Count == 0)
            return json;
        var target = candidates[Random.Next(candidates.Count)];
        var (name, _) = target.ElementAt(Random.Next(target.Count));
        var duplicateName = Random.Next(3) == 0 ? name.ToUpperInvariant() : name;
        target[Marker] = 0;
        return root!.ToJsonString().Replace("\"" + Marker + "\":0", JsonSerializer.Serialize(duplicateName) + ":" + RandomReplacement());
    }

    static void Collect(JsonNode? node, List<JsonNode> output)
    {
        if (node is null)
            return;
        output.Add(node);
        if (node is JsonObject obj)
            foreach (var (_, child) in obj)
                Collect(child, output);
        else if (node is JsonArray array)
            foreach (var child in array)
                Collect(child, output);
    }
}
