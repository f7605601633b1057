using System.Text;
using Sessions.Payments.Mpp;

namespace Sessions.Payments.Tests.Mpp;

public sealed class CredentialTests
{
    private static string Token(byte[] json) => "Payment " + Base64Url.Encode(json);

    [Fact]
    public void Invalid_utf8_inside_valid_base64url_is_invalid_json()
    {
        var result = PaymentCredentials.Decode(Token([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])); // {"\xff":1}
        Assert.Equal(CredentialError.InvalidJson, result.Error);
        Assert.Null(PaymentReceipt.TryParseHeader(Base64Url.Encode([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])));
    }

    [Theory]
    [InlineData("Basic abc", CredentialError.Missing)]
    [InlineData("Payment e30, Payment e30", CredentialError.Multiple)]
    [InlineData("Payment e30=", null)] // padding tolerated, then it is "{}": wrong shape
    [InlineData("Payment e3+=", CredentialError.InvalidBase64Url)]
    [InlineData("Payment W10", CredentialError.InvalidShape)] // []
    [InlineData("Payment bm90", CredentialError.InvalidJson)] // "not"
    public void Malformed_credentials_fail_with_a_reason(string header, CredentialError? expected)
    {
        var result = PaymentCredentials.Decode(header);
        Assert.False(result.Succeeded);
        Assert.Equal(expected ?? CredentialError.InvalidShape, result.Error);
    }

    [Fact]
    public void Receipts_round_trip()
    {
        var receipt = new PaymentReceipt { Method = "evm", Timestamp = "2026-01-01T00:00:00Z", Reference = "0xabc" };
        var header = receipt.ToHeaderValue();
        Assert.Equal("{\"status\":\"success\",\"method\":\"evm\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"reference\":\"0xabc\"}",
            Encoding.UTF8.GetString(Base64Url.TryDecode(header, out var bytes) ? bytes : []));
        Assert.Equal(receipt, PaymentReceipt.TryParseHeader(header));
    }
}
