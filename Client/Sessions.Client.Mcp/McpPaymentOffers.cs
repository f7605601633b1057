using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using Sessions.Payments.Crypto;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.Client.Mcp;

/// <summary>
/// The MCP transport of payments (PROTOCOLS.md §1 and §2, what the gate's McpToolCall writes): the offers of a payment-required
/// tool result or -32042 error, the <c>_meta</c> that pays a call, and the settlement or receipt of the paid result.
/// </summary>
internal static class McpPaymentOffers
{
    public const string PaymentMetaKey = "x402/payment";
    public const string PaymentResponseMetaKey = "x402/payment-response";
    public const string CredentialMetaKey = "org.paymentauth/credential";
    public const string ReceiptMetaKey = "org.paymentauth/receipt";
    /// <summary>MPP's challenges beside an x402 payment-required tool result (the way mppx's McpClient pays).</summary>
    public const string PaymentRequiredMetaKey = "org.paymentauth/payment-required";
    /// <summary>mppx's payment-required and verification-failed JSON-RPC error codes.</summary>
    public const int PaymentRequiredCode = -32042;
    public const int VerificationFailedCode = -32043;

    /// <summary>
    /// The payable offers of a payment-required tool result (<c>isError</c> with an x402 v2 PaymentRequired as structuredContent
    /// and/or MPP challenges in <c>_meta</c>), in <paramref name="protocols"/> order; null when the result asks for no payment.
    /// </summary>
    public static IReadOnlyList<PaymentOffer>? FromResult(CallToolResult result, IEnumerable<PaymentProtocol> protocols)
    {
        if (result.IsError != true)
            return null;
        var required = X402Required(result.StructuredContent);
        var challenges = Challenges(result.Meta?[PaymentRequiredMetaKey]);
        return required is null && challenges.Count == 0 ? null : Order(protocols, required, challenges);
    }

    static List<PaymentOffer> Order(IEnumerable<PaymentProtocol> protocols, PaymentRequired? required, IReadOnlyList<PaymentChallenge> challenges)
    {
        var offers = new List<PaymentOffer>();
        foreach (var protocol in protocols)
        {
            if (protocol == PaymentProtocol.X402V2 && required is not null)
                offers.AddRange(required.Accepts.Select(r => PaymentOffer.FromV2(r, required.Resource)).OfType<PaymentOffer>());
            else if (protocol == PaymentProtocol.Mpp)
                offers.AddRange(challenges.Select(PaymentOffer.FromChallenge).OfType<PaymentOffer>());
            // x402 v1 has no MCP transport: the gate takes only v2 PaymentPayloads in _meta.
        }
        return offers;
    }

    static PaymentRequired? X402Required(JsonElement? structured)
    {
        if (structured is not { ValueKind: JsonValueKind.Object } json || !json.TryGetProperty("x402Version", out var version)
            || !version.TryGetInt32(out var v) || v != 2)
            return null;
        try
        {
            return json.Deserialize(X402JsonContext.Strict.PaymentRequired);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The challenges of <c>{challenges: [...]}</c>, each with its request as the JSON object it encodes.</summary>
    static List<PaymentChallenge> Challenges(JsonNode? holder)
    {
        var challenges = new List<PaymentChallenge>();
        if (holder is not JsonObject { } data || data["challenges"] is not JsonArray list)
            return challenges;
        foreach (var item in list.OfType<JsonObject>())
        {
            if (Text(item, "id") is not { } id || Text(item, "realm") is not { } realm || Text(item, "method") is not { } method
                || Text(item, "intent") is not { } intent || item["request"] is not { } request)
                continue;
            challenges.Add(new PaymentChallenge
            {
                Id = id, Realm = realm, Method = method, Intent = intent,
                // The header form of the request: base64url of its JCS canonical JSON.
                Request = request is JsonObject ? Base64Url.Encode(Jcs.CanonicalizeToUtf8(JsonSerializer.SerializeToElement(request))) : Text(item, "request") ?? "",
                Description = Text(item, "description"), Digest = Text(item, "digest"), Expires = Text(item, "expires"), Opaque = Text(item, "opaque"),
            });
        }
        return challenges;
    }

    static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>The <c>_meta</c> that pays the call with <paramref name="offer"/>: the x402 PaymentPayload object or the MPP credential.</summary>
    public static async Task<JsonObject> SignAsync(PaymentOffer offer, IPaymentSigner signer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (offer.Challenge is { } challenge)
        {
            var credential = await PaymentSigning.MppCredentialAsync(offer, challenge, signer, now, cancellationToken);
            var json = JsonSerializer.SerializeToNode(credential, MppJsonContext.Strict.PaymentCredential)!.AsObject();
            // Over MCP the echoed challenge carries its request as the object it encodes (mppx's Transport.mcp()).
            Base64Url.TryDecode(credential.Challenge.Request, out var request);
            json["challenge"]!["request"] = JsonNode.Parse(request);
            return new JsonObject { [CredentialMetaKey] = json };
        }
        var exact = await PaymentSigning.ExactPayloadAsync(offer, signer, now, cancellationToken);
        var payload = new PaymentPayload { Resource = offer.Resource, Accepted = offer.V2!, Payload = exact.ToJsonElement() };
        return new JsonObject { [PaymentMetaKey] = JsonSerializer.SerializeToNode(payload, X402JsonContext.Strict.PaymentPayload) };
    }

    /// <summary>What the answer says about the payment: the settlement (in <c>_meta</c>, or in a refused settlement's PaymentRequired) or the receipt.</summary>
    public static PaymentResult Result(PaymentOffer offer, EvmAddress payer, CallToolResult result) => new()
    {
        Protocol = offer.Protocol, Network = offer.Network, Asset = offer.Asset, Amount = offer.Amount, PayTo = offer.PayTo, Payer = payer,
        Settlement = Read(result.Meta?[PaymentResponseMetaKey], X402JsonContext.Strict.SettleResponse)
            ?? (result.StructuredContent is { ValueKind: JsonValueKind.Object } structured && structured.TryGetProperty(PaymentResponseMetaKey, out var refused)
                ? Read(JsonSerializer.SerializeToNode(refused), X402JsonContext.Strict.SettleResponse) : null),
        Receipt = Read(result.Meta?[ReceiptMetaKey], MppJsonContext.Strict.PaymentReceipt),
    };

    static T? Read<T>(JsonNode? json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        if (json is not JsonObject)
            return null;
        try
        {
            return json.Deserialize(type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
