using System.Text;
using System.Text.Json;
using Sessions.Payments.Mpp;

namespace Sessions.Payments.Tests.Mpp;

/// <summary>Cross-checks against mppx 0.11.0 challenges/credentials and ox's JCS (Fixtures/generate-fixtures.mjs).</summary>
public sealed class MppFixtureTests
{
    private static readonly JsonElement Challenges = Fixtures.Load("mppx-challenges.json");

    public static TheoryData<int> ChallengeVariants() => new(Enumerable.Range(0, Challenges.GetArrayLength()));

    private static string? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.GetString() : null;

    [Theory]
    [MemberData(nameof(ChallengeVariants))]
    public void Issued_challenges_equal_mppx_ones_byte_for_byte(int index)
    {
        var fixture = Challenges[index];
        var expected = fixture.GetProperty("challenge");
        var secret = Encoding.UTF8.GetBytes(fixture.GetProperty("secret").GetString()!);
        var challenge = PaymentChallenge.Create(secret, "api.example.com", "evm", "charge", expected.GetProperty("request"),
            expires: Optional(expected, "expires"), digest: Optional(expected, "digest"), description: Optional(expected, "description"),
            opaque: expected.TryGetProperty("meta", out var meta) ? meta : null);

        Assert.Equal(expected.GetProperty("id").GetString(), challenge.Id);
        Assert.Equal(Optional(expected, "opaque"), challenge.Opaque);
        Assert.Equal(fixture.GetProperty("header").GetString(), challenge.ToHeaderValue());
    }

    [Theory]
    [MemberData(nameof(ChallengeVariants))]
    public void Mppx_challenge_headers_parse_and_their_ids_verify(int index)
    {
        var fixture = Challenges[index];
        var secret = Encoding.UTF8.GetBytes(fixture.GetProperty("secret").GetString()!);
        Assert.True(PaymentChallenge.TryParseHeader(fixture.GetProperty("header").GetString(), out var parsed, out var error), error);
        var challenge = Assert.Single(parsed);
        Assert.Equal(Optional(fixture.GetProperty("challenge"), "description"), challenge.Description);
        Assert.True(challenge.HasValidId(secret));
        Assert.False(challenge.HasValidId("other-secret"u8));
        Assert.False((challenge with { Realm = "evil.example.com" }).HasValidId(secret));
    }

    [Theory]
    [MemberData(nameof(ChallengeVariants))]
    public void Mppx_credentials_decode_and_bind_to_their_challenge(int index)
    {
        var fixture = Challenges[index];
        var secret = Encoding.UTF8.GetBytes(fixture.GetProperty("secret").GetString()!);
        var decoded = PaymentCredentials.Decode(fixture.GetProperty("credential").GetString());
        Assert.True(decoded.Succeeded, decoded.Message);
        var echoed = decoded.Credential!.Challenge;
        Assert.Equal(fixture.GetProperty("challenge").GetProperty("id").GetString(), echoed.Id);
        Assert.True(ChallengeId.Verify(secret, echoed));

        // Every slot is bound: changing any of them (or adding an absent one) breaks the id.
        Assert.False(ChallengeId.Verify(secret, echoed with { Realm = "x" }));
        Assert.False(ChallengeId.Verify(secret, echoed with { Method = "tempo" }));
        Assert.False(ChallengeId.Verify(secret, echoed with { Intent = "session" }));
        Assert.False(ChallengeId.Verify(secret, echoed with { Expires = "2099-01-01T00:00:00.000Z" }));
        Assert.False(ChallengeId.Verify(secret, echoed with { Digest = "sha-256=AAAA" }));
        Assert.False(ChallengeId.Verify(secret, echoed with { Opaque = JsonDocument.Parse("\"e30\"").RootElement.Clone() }));
        var otherRequest = Base64Url.Encode("{\"amount\":\"1\"}"u8);
        Assert.False(ChallengeId.Verify(secret, echoed with { Request = otherRequest }));

        Assert.Equal(fixture.GetProperty("nonce").GetString(), MppEvm.AuthorizationNonce(echoed.Id, echoed.Realm).ToString());
    }

    [Fact]
    public void The_seven_slots_keep_absent_values_apart()
    {
        var secret = "k"u8;
        var withExpires = ChallengeId.Compute(secret, "r", "m", "i", "e30", "x", null, null);
        var withDigest = ChallengeId.Compute(secret, "r", "m", "i", "e30", null, "x", null);
        var withOpaque = ChallengeId.Compute(secret, "r", "m", "i", "e30", null, null, "x");
        Assert.Equal(3, new[] { withExpires, withDigest, withOpaque }.Distinct().Count());
        Assert.Equal(ChallengeId.Compute(secret, "r", "m", "i", "e30", "", "", ""), ChallengeId.Compute(secret, "r", "m", "i", "e30", null, null, null));
    }

    [Fact]
    public void An_echoed_request_is_compared_in_canonical_form()
    {
        var fixture = Challenges[0];
        var secret = Encoding.UTF8.GetBytes(fixture.GetProperty("secret").GetString()!);
        var echoed = PaymentCredentials.Decode(fixture.GetProperty("credential").GetString()).Credential!.Challenge;
        Assert.True(Base64Url.TryDecode(echoed.Request, out var bytes));
        using var document = JsonDocument.Parse(bytes);
        var pretty = JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true });
        Assert.True(ChallengeId.Verify(secret, echoed with { Request = Base64Url.Encode(Encoding.UTF8.GetBytes(pretty)) }));
    }

    public static TheoryData<int> JcsCases() => new(Enumerable.Range(0, Fixtures.Load("ox-jcs.json").GetArrayLength()));

    [Theory]
    [MemberData(nameof(JcsCases))]
    public void Jcs_matches_ox(int index)
    {
        var fixture = Fixtures.Load("ox-jcs.json")[index];
        Assert.True(Jcs.TryCanonicalize(fixture.GetProperty("input").GetString()!, out var canonical, out var error), error);
        Assert.Equal(fixture.GetProperty("canonical").GetString(), canonical);
    }

    [Fact]
    public void Jcs_numbers_match_ecmascript()
    {
        foreach (var fixture in Fixtures.Load("js-numbers.json").EnumerateArray())
        {
            var value = BitConverter.Int64BitsToDouble(Convert.ToInt64(fixture.GetProperty("bits").GetString(), 16));
            Assert.Equal(fixture.GetProperty("text").GetString(), Jcs.FormatNumber(value));
        }
    }

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("\"\\ud800\"")]
    [InlineData("1e400")]
    [InlineData("{\"a\":1} x")]
    public void Jcs_refuses_what_rfc8785_refuses(string json) => Assert.False(Jcs.TryCanonicalize(json, out _, out _));

    // A string's escaping, whole-copy path (plain ASCII) and character path alike: JSON.stringify's output.
    [Theory]
    [InlineData("", "\"\"")]
    [InlineData("req_01 GET /api/content/{**key} ~", "\"req_01 GET /api/content/{**key} ~\"")]
    [InlineData("GET /a\"b\\c", "\"GET /a\\\"b\\\\c\"")]
    [InlineData("x\n\t\r\b\f\u0001\u001f\u007f", "\"x\\n\\t\\r\\b\\f\\u0001\\u001f\u007f\"")]
    [InlineData("caf\u00e9 \u20ac\ud83d\ude42", "\"caf\u00e9 \u20ac\ud83d\ude42\"")]
    public void Jcs_escapes_strings_as_json_stringify(string value, string expected)
    {
        var output = new StringBuilder();
        Jcs.WriteString(value, output);
        Assert.Equal(expected, output.ToString());
    }

    [Fact]
    public void Jcs_refuses_a_lone_surrogate_after_a_plain_prefix() =>
        Assert.Throws<FormatException>(() => Jcs.WriteString("plain prefix \ud800", new StringBuilder()));
}
