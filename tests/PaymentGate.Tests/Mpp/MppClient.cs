using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using PaymentGate.Tests.Facilitator;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace PaymentGate.Tests.Mpp;

/// <summary>
/// An MPP client built from the payments library, doing what mppx 0.11's <c>evm.charge</c> client does: read the
/// <c>WWW-Authenticate: Payment</c> challenge, sign the EIP-3009 authorization (nonce keccak256(id + realm), validBefore =
/// expires, validAfter 0, domain USDC/2 on the currency), echo the challenge with the request re-encoded, add the did:pkh source.
/// </summary>
public static class MppClient
{
    public const string ChallengeKey = "mpp-tests-challenge-key-0123456789abcdef";
    public const string ProblemBase = "https://paymentauth.org/problems/";

    public static PaymentChallenge ChallengeOf(HttpResponseMessage response)
    {
        var header = string.Join(", ", response.Headers.WwwAuthenticate.Select(v => v.ToString()));
        Assert.True(PaymentChallenge.TryParseHeader(header, out var challenges, out var error), error);
        return Assert.Single(challenges);
    }

    public static JsonElement RequestOf(PaymentChallenge challenge)
    {
        Assert.True(Base64Url.TryDecode(challenge.Request, out var bytes));
        return JsonDocument.Parse(bytes).RootElement.Clone();
    }

    /// <summary>The signed authorization payload; every argument can be bent to make one check fail.</summary>
    public static JsonElement Authorization(TestPayer payer, PaymentChallenge challenge, BigInteger? value = null, string? to = null, string? nonce = null,
        long? validAfter = null, long? validBefore = null, byte[]? signingKey = null, string type = "authorization")
    {
        var request = RequestOf(challenge);
        var recipient = EvmAddress.Parse(to ?? request.GetProperty("recipient").GetString()!);
        var currency = EvmAddress.Parse(request.GetProperty("currency").GetString()!);
        var chainId = request.GetProperty("methodDetails").GetProperty("chainId").GetInt64();
        var before = validBefore ?? DateTimeOffset.Parse(challenge.Expires!, CultureInfo.InvariantCulture).ToUnixTimeSeconds();
        var message = new TransferWithAuthorization(payer.Address, recipient,
            value ?? BigInteger.Parse(request.GetProperty("amount").GetString()!, CultureInfo.InvariantCulture), validAfter ?? 0, before,
            nonce is null ? MppEvm.AuthorizationNonce(challenge.Id, challenge.Realm) : Bytes32.Parse(nonce));
        var signature = message.Sign(TransferWithAuthorization.Domain("USDC", "2", chainId, currency), signingKey ?? payer.Key);
        return JsonSerializer.SerializeToElement(new
        {
            type, from = payer.Address.ToChecksumString(), to = recipient.ToChecksumString(), value = message.Value.ToString(CultureInfo.InvariantCulture),
            validAfter = message.ValidAfter.ToString(CultureInfo.InvariantCulture), validBefore = message.ValidBefore.ToString(CultureInfo.InvariantCulture),
            nonce = message.Nonce.ToString(), signature = Hex.Encode(signature),
        });
    }

    /// <summary><c>Payment &lt;base64url credential&gt;</c> for <paramref name="challenge"/> (echoed as given: tamper before calling).</summary>
    public static string Credential(PaymentChallenge challenge, JsonElement payload, string? source)
    {
        // mppx decodes the request and re-serializes it canonically before echoing it.
        Assert.True(ChallengeId.TryCanonicalRequest(challenge.Request, out var request));
        return new PaymentCredential
        {
            Challenge = new CredentialChallenge
            {
                Id = challenge.Id, Realm = challenge.Realm, Method = challenge.Method, Intent = challenge.Intent, Request = request,
                Description = challenge.Description, Expires = challenge.Expires,
            },
            Source = source,
            Payload = payload,
        }.ToHeaderValue();
    }

    public static string Pay(TestPayer payer, PaymentChallenge challenge) =>
        Credential(challenge, Authorization(payer, challenge), MppEvm.SourceDid(84532, payer.Address));

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(ProblemBase + type, problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>Every 402 carries a fresh, payable challenge and the x402 offer beside it.</summary>
    public static PaymentChallenge AssertFreshChallenge(HttpResponseMessage response)
    {
        var challenge = ChallengeOf(response);
        Assert.True(challenge.HasValidId(System.Text.Encoding.UTF8.GetBytes(ChallengeKey)));
        Assert.True(DateTimeOffset.Parse(challenge.Expires!, CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow);
        Assert.True(response.Headers.Contains(X402HeaderCodec.PaymentRequiredHeader));
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        return challenge;
    }
}
