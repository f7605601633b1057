using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Sessions.Client.Mcp;

/// <summary>A tool call and what paid it: null when nothing was paid (a free tool, a session token, or nothing payable offered).</summary>
public sealed record PaidToolResult(CallToolResult Result, PaymentResult? Payment);

/// <summary>
/// Pays priced tools of one MCP server (the gate's <c>/mcp</c>) the way the official clients do: the call goes out unpaid; a
/// payment-required answer (the x402 tool result with MPP's challenges in its <c>_meta</c>) is reserved against the
/// <see cref="SpendLedger"/> (a refusal throws <see cref="PaymentRefusedException"/> before anything is signed), signed by the
/// same <see cref="IPaymentSigner"/> as the HTTP handler, and the call is sent again with the proof in <c>params._meta</c>.
/// A session is reused by the transport: an McpClient over the HttpClient that has <c>AddPaymentHandler</c> with sessions sends
/// the open session's <c>Payment-Session</c> token on every request, and the gate debits it instead of asking for a payment.
/// </summary>
public sealed class McpToolPayer
{
    readonly PaymentClientOptions _options;
    readonly IPaymentSigner _signer;
    readonly string _host;

    /// <param name="server">The MCP endpoint (its host is the one the spend policy's per-host budget counts).</param>
    public McpToolPayer(Uri server, PaymentClientOptions options, SpendLedger? ledger = null)
    {
        _options = options;
        _signer = options.Signer ?? throw new ArgumentException("PaymentClientOptions.Signer is required.", nameof(options));
        _host = server.Authority.ToLowerInvariant();
        Ledger = ledger ?? new SpendLedger(options.SpendPolicy, options.TimeProvider);
    }

    /// <summary>
    /// The payer of the HttpClient named <paramref name="name"/> (<c>AddPaymentHandler</c>): its signer, protocols, spend
    /// policy and the same ledger, so HTTP payments and tool payments share one budget.
    /// </summary>
    public static McpToolPayer ForHttpClient(IServiceProvider services, string name, Uri server) =>
        new(server, services.GetRequiredService<IOptionsMonitor<PaymentClientOptions>>().Get(name), services.GetRequiredKeyedService<SpendLedger>(name));

    public SpendLedger Ledger { get; }

    /// <summary>Calls <paramref name="toolName"/>, paying it when the server asks; a free tool's result comes back untouched.</summary>
    public async Task<PaidToolResult> CallToolAsync(McpClient client, string toolName, IReadOnlyDictionary<string, object?>? arguments = null,
        CancellationToken cancellationToken = default)
    {
        var (unpaid, offers) = await AskAsync(client, toolName, arguments, cancellationToken);
        if (offers is not { Count: > 0 })
            return new PaidToolResult(unpaid, null);   // free, paid by the session, or nothing this client can pay

        var (offer, reservation) = Ledger.ReserveFirst(_host, offers);
        JsonObject meta;
        try
        {
            meta = await McpPaymentOffers.SignAsync(offer, _signer, _options.TimeProvider.GetUtcNow(), cancellationToken);
        }
        catch
        {
            reservation.Release();   // nothing was sent
            throw;
        }
        CallToolResult paid;
        try
        {
            paid = await client.CallToolAsync(toolName, arguments, options: new RequestOptions { Meta = meta }, cancellationToken: cancellationToken);
        }
        catch (McpProtocolException refused) when (IsPaymentRefusal(refused))
        {
            reservation.Release();   // the gate refused the credential: nothing was charged
            throw;
        }
        // Other failures keep the reservation: the server may have charged.
        var result = McpPaymentOffers.Result(offer, _signer.Address, paid);
        if (!result.Settled)
            reservation.Release();   // a tool error or a refused payment is never settled
        return new PaidToolResult(paid, result);
    }

    /// <summary>
    /// The unpaid call: its result, and the offers when it asks for a payment. Without <c>Accept-Payment</c> the gate answers
    /// with the x402 tool result carrying MPP's challenges in <c>_meta</c>, so both protocols are offered in a result. (MPP's
    /// -32042 error is MCP's URLElicitationRequired code: ModelContextProtocol 2.4.0 fails reading its data with a JsonException,
    /// so a .NET client must not ask for it.)
    /// </summary>
    async Task<(CallToolResult Result, IReadOnlyList<PaymentOffer>? Offers)> AskAsync(McpClient client, string toolName,
        IReadOnlyDictionary<string, object?>? arguments, CancellationToken cancellationToken)
    {
        var result = await client.CallToolAsync(toolName, arguments, cancellationToken: cancellationToken);
        return (result, McpPaymentOffers.FromResult(result, _options.Protocols));
    }

    static bool IsPaymentRefusal(McpProtocolException exception) =>
        (int)exception.ErrorCode is McpPaymentOffers.PaymentRequiredCode or McpPaymentOffers.VerificationFailedCode or (int)McpErrorCode.InvalidParams;
}

public static class PaidMcpClientExtensions
{
    /// <summary>Calls a tool of this client, paying it with <paramref name="payer"/> when it is priced (see <see cref="McpToolPayer"/>).</summary>
    public static Task<PaidToolResult> CallPaidToolAsync(this McpClient client, McpToolPayer payer, string toolName,
        IReadOnlyDictionary<string, object?>? arguments = null, CancellationToken cancellationToken = default) =>
        payer.CallToolAsync(client, toolName, arguments, cancellationToken);
}
