using System.Globalization;
using Microsoft.Extensions.Options;
using Sessions.Payments.Receipts;

namespace Sessions.PaymentGate.Receipts;

/// <summary>
/// Makes the receipt of a charged answer (issue 19, docs/receipts.md): the facts of the payment kind, the request's digest,
/// the hash of the body being delivered and the latency, signed with the gate's current key and queued for storage.
/// </summary>
public sealed class ReceiptIssuer(GateSigningKeys keys, ReceiptStore store, TimeProvider time, IOptions<ReceiptOptions> options)
{
    readonly bool enabled = options.Value.Enabled;

    /// <summary>The header of a paid HTTP answer; MCP results carry the same JWS in <c>_meta["sessions/receipt"]</c>.</summary>
    public const string HeaderName = "Sessions-Receipt";
    public const string McpMetaKey = "sessions/receipt";

    /// <summary>
    /// Starts the receipt of a request that may be charged (its clock and request hash); null when receipts are off
    /// (<c>Gate:Receipts:Enabled</c> false): then nothing is hashed, signed or stored for it.
    /// </summary>
    public RequestDigest? Start(HttpContext context) => enabled ? RequestDigest.Start(context, time) : null;

    /// <summary>Signs and queues the receipt; returns its JWS. <paramref name="responseBody"/>: the upstream body as delivered
    /// (for MCP: as McpServer sent it, before the gate added its <c>_meta</c> members, which include this receipt).</summary>
    public async Task<string> IssueAsync(ReceiptFacts facts, RequestDigest digest, ReadOnlyMemory<byte> responseBody, string? balanceAfter)
    {
        var now = time.GetUtcNow();
        var route = facts.Route;
        var receipt = new Receipt
        {
            Id = facts.Id,
            Method = facts.Method,
            Timestamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            Reference = facts.Reference,
            Payer = facts.Payer,
            Organization = route.Organization!.Id,
            Route = route.Name,
            Amount = (facts.Amount ?? route.Amount!.Value).ToString(CultureInfo.InvariantCulture),
            Asset = route.Requirements!.Asset,
            Network = route.Requirements.Network,
            PaymentId = facts.PaymentId,
            DebitId = facts.DebitId,
            SessionId = facts.SessionId,
            BalanceAfter = facts.SessionId is null ? null : balanceAfter,
            RequestSha256 = await digest.RequestSha256Async(),
            ResponseSha256 = ReceiptHashes.Body(responseBody.Span),
            LatencyMs = digest.ElapsedMilliseconds,
        };
        var jws = keys.Sign(receipt);
        store.Enqueue(new StoredReceipt(receipt, jws, now));
        return jws;
    }
}
