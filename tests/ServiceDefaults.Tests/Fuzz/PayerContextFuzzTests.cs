using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using ServiceDefaults.Tests.Support;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing.Fuzz;
using static ServiceDefaults.Tests.PayerContext.PayerContextSignerTests;

namespace ServiceDefaults.Tests.Fuzz;

// Seeded fuzzing of the signed payer-context header (X-Payer-Context) that every service reads: 10,000 mutated headers (only
// the original context may verify), 10,000 mutated payloads signed with the right key (what a buggy or compromised signer could
// send: they verify or are refused, never throw), and a few hundred through the middleware (401 or the endpoint, never a 5xx).
public sealed class PayerContextFuzzTests
{
    const int Cases = 10_000;
    static readonly PayerContextSigner Verifier = Signer();
    static readonly string Valid = Verifier.Sign(NewContext(Verifier) with { SessionId = "ses_1", VaultId = "vlt_1" });

    static string PayloadJson(string header) => Encoding.UTF8.GetString(Convert.FromBase64String(Pad(header.Split('.')[1])));

    static string Pad(string base64Url) => base64Url.Replace('-', '+').Replace('_', '/') + new string('=', (4 - base64Url.Length % 4) % 4);

    /// <summary>Signs arbitrary payload bytes the way the gate signs a context, so the fuzzed payload passes the MAC.</summary>
    static string SignRaw(byte[] payload)
    {
        var signed = "v1." + HeaderFuzz.Base64Url(payload);
        return signed + "." + HeaderFuzz.Base64Url(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.ASCII.GetBytes(signed)));
    }

    [Fact]
    public void Mutated_headers_never_throw_and_only_the_signed_context_verifies()
    {
        Assert.True(Verifier.TryVerify(Valid, out var original, out _));
        HeaderFuzz.RunText(13301, Cases, [Valid, Valid.Replace("v1.", "v2.")], header =>
        {
            if (Verifier.TryVerify(header, out var context, out var error))
                Assert.Equal(original, context);   // a respelling of the same signed bytes at most: never another payer
            else
                Assert.False(string.IsNullOrEmpty(error));
        });
    }

    [Fact]
    public void Mutated_payloads_signed_with_the_key_verify_or_are_refused_and_never_throw()
    {
        var json = PayloadJson(Valid);
        var minimal = JsonSerializer.Serialize(new { payer = Payer, org = "demo", exp = Verifier.NewExpiry() });
        HeaderFuzz.Run(13302, Cases, [json, minimal], SignRaw, header =>
        {
            if (!Verifier.TryVerify(header, out var context, out var error))
            {
                Assert.False(string.IsNullOrEmpty(error));
                return;
            }
            Assert.False(string.IsNullOrEmpty(context!.Organization));
            // Trimmed; an EVM (0x) address lowercased, a Solana (base58) one kept as it is: case is part of base58.
            Assert.Equal(context.Payer.Trim(), context.Payer);
            if (context.Payer.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                Assert.Equal(context.Payer.ToLowerInvariant(), context.Payer);
        });
    }

    [Fact]
    public async Task Mutated_headers_through_the_middleware_are_401_or_served_never_a_5xx()
    {
        await using var app = TestApp.CreateBuilder(new Dictionary<string, string?> { ["PayerContext:SigningKey"] = Key }).Build();
        app.MapGet("/whoami", (HttpContext http) => http.GetPayerContext()?.Payer ?? "");
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var client = app.GetTestClient();
        var json = PayloadJson(Valid);

        var random = new Random(13303);
        // Half signed with the key (the payload decides), half with a bad signature (the MAC decides).
        await HeaderFuzz.RunAsync(13303, 500, [json], bytes => random.Next(2) == 0 ? SignRaw(bytes) : "v1." + HeaderFuzz.Base64Url(bytes) + ".x",
            async header =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, "/whoami");
                request.Headers.TryAddWithoutValidation(PayerContextSigner.HeaderName, header);
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.True((int)response.StatusCode is 200 or 401, $"{(int)response.StatusCode}");
            });
    }
}
