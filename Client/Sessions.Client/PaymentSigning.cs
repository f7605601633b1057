using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.Client;

/// <summary>Signs an offer the way the official clients do and returns the header that carries the proof.</summary>
internal static class PaymentSigning
{
    // @x402/evm's exact client: valid from ten minutes ago (clock skew), until the offer's timeout.
    const long ValidAfterSkewSeconds = 600;

    public static async Task<(string Name, string Value)> SignAsync(PaymentOffer offer, IPaymentSigner signer, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (offer.Challenge is { } challenge)
            return ("Authorization", (await MppCredentialAsync(offer, challenge, signer, now, cancellationToken)).ToHeaderValue());
        var exact = await ExactPayloadAsync(offer, signer, now, cancellationToken);
        return offer.V2 is { } accepted
            ? (X402HeaderCodec.PaymentSignatureHeader, X402HeaderCodec.Encode(new PaymentPayload
            {
                Resource = offer.Resource, Accepted = accepted, Payload = exact.ToJsonElement(),
            }))
            : (X402HeaderCodec.PaymentHeaderV1, X402HeaderCodec.Encode(new PaymentPayloadV1
            {
                Scheme = offer.V1!.Scheme, Network = offer.V1.Network, Payload = exact.ToJsonElement(),
            }));
    }

    /// <summary>The signed EIP-3009 authorization of an x402 offer (what PAYMENT-SIGNATURE, X-PAYMENT and MCP's _meta carry).</summary>
    public static async Task<ExactEvmPayload> ExactPayloadAsync(PaymentOffer offer, IPaymentSigner signer, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var seconds = now.ToUnixTimeSeconds();
        var message = new TransferWithAuthorization(signer.Address, offer.PayTo, offer.Amount.Value, seconds - ValidAfterSkewSeconds,
            seconds + offer.MaxTimeoutSeconds, Bytes32.FromBytes(RandomNumberGenerator.GetBytes(Bytes32.Length)));
        return new ExactEvmPayload
        {
            Signature = Hex.Encode(await SignAsync(message, offer.Domain, signer, cancellationToken)),
            Authorization = new ExactEvmAuthorization
            {
                From = message.From.ToString(), To = message.To.ToString(), Value = Decimal(message.Value),
                ValidAfter = Decimal(message.ValidAfter), ValidBefore = Decimal(message.ValidBefore), Nonce = message.Nonce.ToString(),
            },
        };
    }

    /// <summary>The digest of <paramref name="message"/> under <paramref name="domain"/>, signed by <paramref name="signer"/>.</summary>
    public static async Task<byte[]> SignAsync(TransferWithAuthorization message, Eip712Domain domain, IPaymentSigner signer,
        CancellationToken cancellationToken) =>
        await signer.SignDigestAsync(message.Digest(domain), cancellationToken);

    /// <summary>
    /// mppx's evm charge "authorization" credential: nonce keccak256(id + realm), valid from 0 until the challenge expires,
    /// the challenge echoed with its request re-canonicalized, source did:pkh.
    /// </summary>
    public static async Task<PaymentCredential> MppCredentialAsync(PaymentOffer offer, PaymentChallenge challenge, IPaymentSigner signer, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var message = new TransferWithAuthorization(signer.Address, offer.PayTo, offer.Amount.Value, 0, offer.MppValidBefore(now),
            MppEvm.AuthorizationNonce(challenge.Id, challenge.Realm));
        var signature = await SignAsync(message, offer.Domain, signer, cancellationToken);
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["type"] = "authorization",
            ["from"] = message.From.ToChecksumString(),
            ["to"] = message.To.ToChecksumString(),
            ["value"] = Decimal(message.Value),
            ["validAfter"] = Decimal(message.ValidAfter),
            ["validBefore"] = Decimal(message.ValidBefore),
            ["nonce"] = message.Nonce.ToString(),
            ["signature"] = Hex.Encode(signature),
        }, X402JsonContext.Strict.DictionaryStringString);
        var request = ChallengeId.TryCanonicalRequest(challenge.Request, out var canonical) ? canonical : challenge.Request;
        return new PaymentCredential
        {
            Challenge = new CredentialChallenge
            {
                Id = challenge.Id, Realm = challenge.Realm, Method = challenge.Method, Intent = challenge.Intent, Request = request,
                Description = challenge.Description, Digest = challenge.Digest, Expires = challenge.Expires,
                Opaque = challenge.Opaque is { } opaque ? JsonString(opaque) : null,
            },
            Source = MppEvm.SourceDid(offer.ChainId, signer.Address),
            Payload = payload,
        };
    }

    // mppx 0.11 echoes opaque as the base64url string it received.
    static JsonElement JsonString(string text)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            writer.WriteStringValue(text);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    static string Decimal(BigInteger value) => value.ToString(CultureInfo.InvariantCulture);
}
