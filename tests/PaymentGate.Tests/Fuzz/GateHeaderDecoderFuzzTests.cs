using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Sessions.PaymentGate.Mpp;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;
using Sessions.Testing.Fuzz;

namespace PaymentGate.Tests.Fuzz;

// The gate's own header readers, fuzzed directly (10,000 seeded cases each; the HTTP-level tests beside this run fewer):
// the x402 header read against a real priced route, and the readers that take headers off a request.
public sealed class GateHeaderDecoderFuzzTests
{
    const int Cases = 10_000;
    const string Url = "http://localhost/api/content/fuzz";

    static readonly GateRoute Route = new PricingCatalog(Options.Create(new GateOptions
    {
        Organizations = { ["demo"] = new OrganizationOptions { Name = "Demo", PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" } },
        Routes = { new RouteOptions { Organization = "demo", Method = "GET", Path = "/api/content/{**key}", Price = "1000" } },
    })).Routes.Single(r => r.Path == "/api/content/{**key}");

    // Fixed values throughout (reading a header checks no signature), so every case is the same on every run.
    static readonly JsonElement Exact = JsonSerializer.SerializeToElement(new ExactEvmPayload
    {
        Signature = "0x" + new string('1', 130),
        Authorization = new ExactEvmAuthorization
        {
            From = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", To = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Value = "1000",
            ValidAfter = "1799999940", ValidBefore = "1800000240", Nonce = "0x" + new string('a', 64),
        },
    }, X402JsonContext.Strict.ExactEvmPayload);

    [Fact]
    public void Payment_headers_read_against_a_priced_route_never_throw()
    {
        string[] valid =
        [
            X402Json.Serialize(new PaymentPayload { Resource = new ResourceInfo { Url = Url }, Accepted = Route.Requirements!, Payload = Exact },
                X402JsonContext.Strict.PaymentPayload),
            X402Json.Serialize(new PaymentPayloadV1 { Scheme = "exact", Network = "base-sepolia", Payload = Exact }, X402JsonContext.Strict.PaymentPayloadV1),
        ];
        HeaderFuzz.Run(13501, Cases, valid, HeaderFuzz.Base64, header =>
        {
            var decoded = X402HeaderCodec.DecodePaymentPayload(header, X402Payment.MaxPaymentHeaderLength);
            if (!decoded.Succeeded)
                return;
            var attempt = PaymentAttempt.TryCreate(Route, Url, header, decoded.Value!, TimeProvider.System.GetUtcNow(), out var error);
            if (attempt is null)
            {
                Assert.False(string.IsNullOrEmpty(error));
                return;
            }
            // What the paywall does next with an attempt: the facilitator request and the payment row.
            attempt.VerifyRequest();
            attempt.ToNewPayment();
        });
    }

    [Fact]
    public void Header_readers_take_every_credential_off_the_request_and_never_throw()
    {
        var credential = new PaymentCredential
        {
            Challenge = new CredentialChallenge { Id = "a", Realm = "r", Method = "evm", Intent = "charge", Request = "e30" },
            Payload = JsonSerializer.SerializeToElement(new { type = "authorization" }),
        }.ToHeaderValue();
        string[] valid = [credential, "Payment , Basic eA==", "st_" + new string('A', 43), "apr_0123", "Bearer vat_abc, Payment e30", "eyJ4NDAyVmVyc2lvbiI6Mn0="];
        var random = new Random(13502);
        HeaderFuzz.RunText(13502, Cases, valid, value =>
        {
            var context = new DefaultHttpContext();
            var headers = context.Request.Headers;
            // One value or several, under every header the gate reads a credential from.
            string[] values = random.Next(3) == 0 ? [value, valid[random.Next(valid.Length)]] : [value];
            foreach (var name in new[] { "PAYMENT-SIGNATURE", "X-PAYMENT", "Payment-Session", "Mandate-Approval", "Authorization" })
                headers[name] = values;

            var decoded = PaymentCredentials.Decode(headers.Authorization.ToArray());
            // The gate keys a credential by the one Authorization value that holds it: decoder and gate must agree on "one".
            if (decoded.Succeeded)
                Assert.Single(headers.Authorization, v => v is not null && MppPayments.HasCredential(HeaderOnly(v)));

            var (payment, _, _) = X402Payment.TakePaymentHeader(context.Request);
            Assert.Equal(StringValues.IsNullOrEmpty(values) ? null : values[0], payment);
            var token = SessionSpending.TakeToken(context.Request);
            SessionSpending.IsWellFormedToken(token);
            var approval = MandateGuard.TakeApprovalId(context.Request);
            Assert.True(approval is null || (approval.Length > 0 && approval == approval.Trim()));
            foreach (var name in new[] { "PAYMENT-SIGNATURE", "X-PAYMENT", "Payment-Session", "Mandate-Approval" })
                Assert.False(headers.ContainsKey(name), name);
        });
    }

    static HttpRequest HeaderOnly(string authorization)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = authorization;
        return context.Request;
    }
}
