using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Sessions.PaymentGate.Mpp;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.X402;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Sessions.PaymentGate.Proxy;

/// <summary>
/// The request headers meant for the gate alone: payments (<c>PAYMENT-SIGNATURE</c>, <c>X-PAYMENT</c>, <c>Authorization:
/// Payment</c>), the session token (<c>Payment-Session</c>) and <c>Mandate-Approval</c>. One YARP request transform, applied
/// to every route, removes them from each upstream request, whatever the route and whether or not the gate read them. Other
/// <c>Authorization</c> values pass: a vault access token (<c>Bearer vat_…</c>) is VaultApi's, as is <c>Vault-Access-Token</c>.
/// The client's <c>X-Payer-Context</c> is gone before routing (<see cref="GateRequestGuard"/>); the paywall's own passes.
/// </summary>
public static class GateCredentials
{
    public const string MppCredential = "Authorization: Payment";

    static readonly string[] X402Headers = [X402HeaderCodec.PaymentSignatureHeader, X402HeaderCodec.PaymentHeaderV1];

    static readonly string[] GateOnlyHeaders =
    [
        X402HeaderCodec.PaymentSignatureHeader, X402HeaderCodec.PaymentHeaderV1, SessionSpending.TokenHeader, MandateGuard.ApprovalHeader,
    ];

    /// <summary>
    /// The payment credentials a request carries, by name. More than one is ambiguous: x402 v2 and v1 headers, or an x402
    /// header and an MPP credential. A session token is not a payment: sent beside one, the payment pays (as documented).
    /// </summary>
    public static IReadOnlyList<string> PaymentCredentialsIn(HttpRequest request)
    {
        // Every request asks this: the list is made only when the request carries a credential.
        List<string>? sent = null;
        foreach (var name in X402Headers)
            if (!StringValues.IsNullOrEmpty(request.Headers[name]))
                (sent ??= new(3)).Add(name);
        if (MppPayments.HasCredential(request))
            (sent ??= new(1)).Add(MppCredential);
        return sent is null ? [] : sent;
    }

    /// <summary>Adds the transform that strips the gate's credentials from every proxied request (all routes).</summary>
    public static void StripFromUpstreamRequests(TransformBuilderContext builder) => builder.AddRequestTransform(context =>
    {
        foreach (var name in GateOnlyHeaders)
            RequestTransform.RemoveHeader(context, name);
        var authorization = RequestTransform.TakeHeader(context, HeaderNames.Authorization);
        var kept = authorization.Where(value => value is not null && !MppPayments.HasCredential(value)).ToArray();
        if (kept.Length > 0)
            RequestTransform.AddHeader(context, HeaderNames.Authorization, kept);
        return ValueTask.CompletedTask;
    });
}
