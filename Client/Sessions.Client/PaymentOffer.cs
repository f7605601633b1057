using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.Client;

/// <summary>The ways a 402 can be answered.</summary>
public enum PaymentProtocol
{
    /// <summary><c>PAYMENT-REQUIRED</c> header answered with <c>PAYMENT-SIGNATURE</c>.</summary>
    X402V2,
    /// <summary>The JSON body <c>{x402Version:1, accepts}</c> answered with <c>X-PAYMENT</c>.</summary>
    X402V1,
    /// <summary><c>WWW-Authenticate: Payment method="evm" intent="charge"</c> answered with <c>Authorization: Payment</c>.</summary>
    Mpp,
}

/// <summary>
/// One payable offer of a 402, reduced to what the spend policy checks (network, asset, amount, payee) and what signing needs
/// (the token's EIP-712 domain); exactly one of <see cref="V2"/>, <see cref="V1"/>, <see cref="Challenge"/> is set.
/// </summary>
internal sealed record PaymentOffer(PaymentProtocol Protocol, string Network, long ChainId, EvmAddress Asset, AtomicAmount Amount,
    EvmAddress PayTo, Eip712Domain Domain, int MaxTimeoutSeconds)
{
    public PaymentRequirements? V2 { get; init; }
    public ResourceInfo? Resource { get; init; }
    public PaymentRequirementsV1? V1 { get; init; }
    public PaymentChallenge? Challenge { get; init; }

    /// <summary>
    /// Every offer of <paramref name="response"/> this client can pay ("exact" EVM with an EIP-3009 domain, MPP evm charge
    /// with the authorization credential), in the caller's protocol order, each protocol's offers in the server's order.
    /// </summary>
    public static async Task<IReadOnlyList<PaymentOffer>> ReadAsync(HttpResponseMessage response, IReadOnlyList<PaymentProtocol> protocols,
        CancellationToken cancellationToken)
    {
        var offers = new List<PaymentOffer>();
        foreach (var protocol in protocols)
        {
            switch (protocol)
            {
                case PaymentProtocol.X402V2:
                    if (response.Headers.TryGetValues(X402HeaderCodec.PaymentRequiredHeader, out var values)
                        && X402HeaderCodec.Decode(values.FirstOrDefault(), X402JsonContext.Strict.PaymentRequired) is { Succeeded: true, Value: { } required })
                        offers.AddRange(required.Accepts.Select(r => FromV2(r, required.Resource)).OfType<PaymentOffer>());
                    break;
                case PaymentProtocol.X402V1:
                    if (await ReadV1BodyAsync(response, cancellationToken) is { } body)
                        offers.AddRange(body.Accepts.Select(FromV1).OfType<PaymentOffer>());
                    break;
                case PaymentProtocol.Mpp:
                    foreach (var header in response.Headers.WwwAuthenticate)
                    {
                        if (PaymentChallenge.TryParseHeader(header.ToString(), out var challenges, out _))
                            offers.AddRange(challenges.Select(FromChallenge).OfType<PaymentOffer>());
                    }
                    break;
            }
        }
        return offers;
    }

    internal static PaymentOffer? FromV2(PaymentRequirements requirements, ResourceInfo resource) =>
        Exact(PaymentProtocol.X402V2, requirements.Scheme, requirements.Network, requirements.Asset, requirements.Amount, requirements.PayTo,
            requirements.Extra, requirements.MaxTimeoutSeconds) is { } offer ? offer with { V2 = requirements, Resource = resource } : null;

    static PaymentOffer? FromV1(PaymentRequirementsV1 requirements) =>
        Exact(PaymentProtocol.X402V1, requirements.Scheme, requirements.Network, requirements.Asset, requirements.MaxAmountRequired,
            requirements.PayTo, requirements.Extra, requirements.MaxTimeoutSeconds) is { } offer ? offer with { V1 = requirements } : null;

    static PaymentOffer? Exact(PaymentProtocol protocol, string scheme, string network, string asset, string amount, string payTo,
        JsonElement? extra, int maxTimeoutSeconds)
    {
        if (scheme != "exact" || !Networks.TryNormalizeToCaip2(network, out var caip2) || !Networks.TryParseCaip2(caip2, out var chainId)
            || !EvmAddress.TryParse(asset, out var token) || !EvmAddress.TryParse(payTo, out var recipient)
            || !AtomicAmount.TryParse(amount, out var value)
            || extra is not { ValueKind: JsonValueKind.Object } domain
            || !domain.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !domain.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.String)
            return null;
        return new PaymentOffer(protocol, caip2, chainId, token, value, recipient,
            TransferWithAuthorization.Domain(name.GetString()!, version.GetString()!, chainId, token), maxTimeoutSeconds);
    }

    /// <summary>
    /// An evm charge the mppx client would pay: credentialTypes lists "authorization", and the currency is a token whose
    /// EIP-712 domain is known (mppx takes it as a client option; the request does not carry it).
    /// </summary>
    internal static PaymentOffer? FromChallenge(PaymentChallenge challenge)
    {
        if (challenge.Method != MppEvm.MethodName || challenge.Intent != "charge" || !Base64Url.TryDecode(challenge.Request, out var bytes))
            return null;
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var request = document.RootElement;
            if (!request.TryGetProperty("methodDetails", out var details) || !details.TryGetProperty("chainId", out var chain)
                || !chain.TryGetInt64(out var chainId) || chainId <= 0
                || !details.TryGetProperty("credentialTypes", out var types) || types.ValueKind != JsonValueKind.Array
                || !types.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.GetString() == "authorization")
                || !EvmAddress.TryParse(request.GetProperty("currency").GetString(), out var currency)
                || !EvmAddress.TryParse(request.GetProperty("recipient").GetString(), out var recipient)
                || !AtomicAmount.TryParse(request.GetProperty("amount").GetString(), out var amount))
                return null;
            var network = Networks.ToCaip2(chainId);
            if (!KnownAssets.TryFind(network, currency, out var token))
                return null;
            return new PaymentOffer(PaymentProtocol.Mpp, network, chainId, currency, amount, recipient,
                TransferWithAuthorization.Domain(token.Eip712Name, token.Eip712Version, chainId, currency), PaymentRequirements.DefaultMaxTimeoutSeconds)
            { Challenge = challenge };
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    static async Task<PaymentRequiredV1?> ReadV1BodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType is not MediaTypeHeaderValue { MediaType: "application/json" })
            return null;
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return JsonSerializer.Deserialize(body, X402JsonContext.Strict.PaymentRequiredV1) is { X402Version: 1 } v1 ? v1 : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The MPP authorization's validBefore: the challenge's expiry, else now + 300 s (as mppx).</summary>
    public long MppValidBefore(DateTimeOffset now) =>
        Challenge?.Expires is { } expires && DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.ToUnixTimeSeconds()
            : now.ToUnixTimeSeconds() + PaymentRequirements.DefaultMaxTimeoutSeconds;
}
