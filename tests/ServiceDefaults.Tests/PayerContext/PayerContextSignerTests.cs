using System.Text;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Context = Sessions.ServiceDefaults.Payers.PayerContext;

namespace ServiceDefaults.Tests.PayerContext;

public sealed class PayerContextSignerTests
{
    public const string Key = "test-payer-context-key-0123456789abcdef";
    public const string Payer = "0x209693bc6afc0c5328ba36faf03c514ef312287c";

    public static PayerContextSigner Signer(string? key = Key) =>
        new(Options.Create(new PayerContextOptions { SigningKey = key }), TimeProvider.System);

    public static Context NewContext(PayerContextSigner signer, string payer = Payer) => new()
    {
        Payer = payer,
        Organization = "demo",
        PaymentId = "pay_" + Guid.NewGuid().ToString("N"),
        RequestId = "req-1",
        ExpiresAt = signer.NewExpiry(),
    };

    [Fact]
    public void Sign_then_verify_round_trips_every_field()
    {
        var signer = Signer();
        var context = NewContext(signer) with { SessionId = "ses_1", VaultId = "vlt_1" };

        var header = signer.Sign(context);

        Assert.StartsWith("v1.", header);
        Assert.True(signer.TryVerify(header, out var verified, out var error), error);
        Assert.Null(error);
        Assert.Equal(context, verified);
    }

    [Fact]
    public void Optional_fields_may_be_absent()
    {
        var signer = Signer();
        var context = new Context { Payer = Payer, Organization = "demo", ExpiresAt = signer.NewExpiry() };

        Assert.True(signer.TryVerify(signer.Sign(context), out var verified, out _));
        Assert.Equal(context, verified);
    }

    [Fact]
    public void New_expiry_is_the_configured_lifetime_from_now()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var expiry = Signer().NewExpiry();
        Assert.InRange(expiry, now + 119, now + 121);
    }

    [Fact]
    public void A_checksummed_payer_is_verified_as_lowercase()
    {
        var signer = Signer();
        var header = signer.Sign(NewContext(signer, "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"));

        Assert.True(signer.TryVerify(header, out var verified, out _));
        Assert.Equal(Payer, verified!.Payer);
    }

    [Fact]
    public void Tampered_payload_is_refused()
    {
        var signer = Signer();
        var parts = signer.Sign(NewContext(signer)).Split('.');
        var other = signer.Sign(NewContext(signer, "0x" + new string('1', 40))).Split('.');

        // A valid payload of another context under this context's MAC.
        Assert.False(signer.TryVerify($"{parts[0]}.{other[1]}.{parts[2]}", out var context, out var error));
        Assert.Null(context);
        Assert.Contains("signature", error);
    }

    [Fact]
    public void Tampered_mac_is_refused()
    {
        var signer = Signer();
        var header = signer.Sign(NewContext(signer));
        var last = header[^2] == 'A' ? 'B' : 'A';

        Assert.False(signer.TryVerify(header[..^2] + last + header[^1], out _, out var error));
        Assert.Contains("signature", error);
    }

    [Fact]
    public void Context_signed_with_another_key_is_refused()
    {
        var other = Signer("another-key-of-at-least-32-characters!!");
        Assert.False(Signer().TryVerify(other.Sign(NewContext(other)), out _, out var error));
        Assert.Contains("signature", error);
    }

    [Fact]
    public void Expired_context_is_refused()
    {
        var signer = Signer();
        var header = signer.Sign(NewContext(signer) with { ExpiresAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5 });

        Assert.False(signer.TryVerify(header, out var context, out var error));
        Assert.Null(context);
        Assert.Contains("expired", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("v1.abc")]
    [InlineData("v2.e30.e30")]
    [InlineData("v1.!!!.???")]
    [InlineData("v1.a.b.c")]
    [InlineData("v1.abcde.abcde")]
    public void Malformed_header_is_refused(string header)
    {
        Assert.False(Signer().TryVerify(header, out var context, out var error));
        Assert.Null(context);
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    [InlineData("not json")]
    [InlineData("{\"payer\":\"\",\"org\":\"demo\",\"exp\":99999999999}")]
    [InlineData("{\"payer\":\"0xabc\",\"exp\":99999999999}")]
    public void Correctly_signed_but_invalid_payload_is_refused(string json)
    {
        var header = SignRaw(json);
        Assert.False(Signer().TryVerify(header, out var context, out var error));
        Assert.Null(context);
        Assert.Contains("malformed", error);
    }

    [Fact]
    public void Oversize_header_is_refused()
    {
        Assert.False(Signer().TryVerify("v1." + new string('a', 5000) + ".abc", out _, out var error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("too-short-key")]
    public void Without_a_usable_key_nothing_verifies_and_nothing_signs(string? key)
    {
        var good = Signer();
        var signer = Signer(key);

        Assert.False(signer.IsConfigured);
        Assert.False(signer.TryVerify(good.Sign(NewContext(good)), out _, out var error));
        Assert.Contains("signing key", error);
        Assert.Throws<InvalidOperationException>(() => signer.Sign(NewContext(good)));
    }

    /// <summary>A header over arbitrary JSON with a valid MAC, to reach the checks behind the signature.</summary>
    public static string SignRaw(string json, string key = Key)
    {
        var payload = Base64Url(Encoding.UTF8.GetBytes(json));
        var mac = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes("v1." + payload));
        return $"v1.{payload}.{Base64Url(mac)}";
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
