using Sessions.PaymentGate.Proxy;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// The buffered upstream answer; <see cref="SendAsync"/> writes it to the client unchanged, or with the settlement inside
/// (and MPP's receipt) when the protocol of the call (<paramref name="format"/>: MCP) carries it in the body.
/// </summary>
public sealed class UpstreamAnswer(HttpContext context, BufferedResponseBody buffer, bool failed, IPaidAnswerFormat? format)
{
    public bool Failed => failed;

    /// <summary>The upstream body as it came (what a receipt's response hash covers).</summary>
    public ReadOnlyMemory<byte> Body => buffer.Body;

    /// <param name="sessionsReceipt">The gate's signed receipt: in the header already, and inside the body when the protocol (MCP) carries it there.</param>
    public async Task SendAsync(SettleResponse? settlement = null, PaymentReceipt? receipt = null, string? challengeId = null,
        string? sessionsReceipt = null)
    {
        var response = context.Response;
        if (buffer.Overflowed)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Upstream answer too large",
                "The upstream answer exceeds what the gate buffers for paid routes; nothing was charged.", format: format);
            return;
        }
        if (response.HasStarted)
            return;
        response.Headers.Remove("Transfer-Encoding");
        // An empty error answer (e.g. YARP's 502) is left without a length so ServiceDefaults turns it into problem+json.
        if (buffer.Body.Length == 0 && response.StatusCode >= 400)
            return;
        var body = (settlement is not null || sessionsReceipt is not null) && format is not null
            ? format.WithSettlement(response, buffer.Body, settlement, receipt, challengeId, sessionsReceipt)
            : buffer.Body;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted);
    }
}
