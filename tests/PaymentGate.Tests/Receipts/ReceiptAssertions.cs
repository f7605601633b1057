using System.Net.Http.Json;
using System.Text;
using Sessions.Payments.Receipts;

namespace PaymentGate.Tests.Receipts;

/// <summary>Verifies what a gate answered as a third party would: against the JWK set the gate publishes.</summary>
public static class ReceiptAssertions
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<JwkSet> JwksAsync(HttpClient gate)
    {
        using var response = await gate.GetAsync("/.well-known/jwks.json", Ct);
        response.EnsureSuccessStatusCode();
        Assert.Equal("application/jwk-set+json", response.Content.Headers.ContentType?.MediaType);
        return JwkSet.TryParse(await response.Content.ReadAsStringAsync(Ct))!;
    }

    /// <summary>The receipt of a paid HTTP answer: valid, its response hash the body received, its request hash the request sent.</summary>
    public static async Task<Receipt> VerifiedAsync(HttpClient gate, HttpResponseMessage response, string method, string pathAndQuery,
        byte[]? requestBody = null)
    {
        var jws = Assert.Single(response.Headers.GetValues("Sessions-Receipt"));
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        var check = new ReceiptVerifier(await JwksAsync(gate)).Verify(jws, body, checkResponseBody: true);
        Assert.True(check.IsValid, check.Error);
        var receipt = check.Receipt!;
        Assert.Equal(ReceiptHashes.Request(method, pathAndQuery, requestBody ?? []), receipt.RequestSha256);
        Assert.Equal("success", receipt.Status);
        Assert.Matches("^rcpt_[0-9a-f]{32}$", receipt.Id);
        Assert.InRange(receipt.LatencyMs, 0, 60_000);
        return receipt;
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static JsonContent Json(string text) => JsonContent.Create(System.Text.Json.JsonDocument.Parse(text).RootElement);
}
