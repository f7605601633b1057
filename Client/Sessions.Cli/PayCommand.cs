using System.CommandLine;
using System.Text;
using Sessions.Client;

namespace Sessions.Cli;

/// <summary><c>pay &lt;url&gt;</c>: one request through Sessions.Client's PaymentHandler, or spent from a stored session.</summary>
public static class PayCommand
{
    public static Command Create()
    {
        var urlArgument = new Argument<string>("url") { Description = "An absolute URL, or a path on the gate (/api/content/notes/a)" };
        var methodOption = new Option<string?>("--method", "-X") { Description = "The HTTP method (default GET, POST with --data)" };
        var dataOption = new Option<string?>("--data", "-d") { Description = "The request body (JSON when it starts with { or [, else text)" };
        var maxOption = new Option<string?>("--max") { Description = "Refuse to pay more than this per payment, atomic units" };
        var sessionOption = new Option<string?>("--session") { Description = "Pay with this stored session's token (Payment-Session) instead of a payment" };
        var approvalOption = new Option<string?>("--approval") { Description = "Retry a payment the agent's owner approved (Mandate-Approval: apr_…)" };
        var pay = new Command("pay", "Send a request and pay its 402 (x402 v2, v1 or MPP), or spend a session") { urlArgument, methodOption, dataOption, maxOption, sessionOption, approvalOption,
            SolanaKey.KeyOption, SolanaKey.KeyFileOption, SolanaKey.RpcOption };
        pay.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var data = parse.GetValue(dataOption);
            var method = new HttpMethod((parse.GetValue(methodOption) ?? (data is null ? "GET" : "POST")).ToUpperInvariant());
            var max = parse.GetValue(maxOption) is { } maxText ? CommandRunner.Atomic(maxText, "--max") : (Sessions.Payments.AtomicAmount?)null;
            using var request = new HttpRequestMessage(method, context.Resolve(parse.GetRequiredValue(urlArgument)));
            if (data is not null)
                request.Content = new StringContent(data, Encoding.UTF8, data.TrimStart() is ['{', ..] or ['[', ..] ? "application/json" : "text/plain");
            if (parse.GetValue(sessionOption) is { } sessionId)
                // A request with a session token is sent as it is: the handler never pays it.
                request.Headers.TryAddWithoutValidation("Payment-Session", SessionState.Load(context.StatePath).TokenOf(sessionId, context.StatePath));
            if (parse.GetValue(approvalOption) is { } approvalId)
                request.Headers.TryAddWithoutValidation(MandateOwner.ApprovalHeader, approvalId);

            var solanaRpc = parse.GetValue(SolanaKey.RpcOption) is { } rpcText
                ? Uri.TryCreate(rpcText, UriKind.Absolute, out var rpc) ? rpc : throw new CliException($"--solana-rpc must be an absolute URL, not '{rpcText}'")
                : null;
            var client = context.PayingClient(new SpendPolicy { MaxPerPayment = max }, SolanaKey.From(parse), solanaRpc);
            using var response = await client.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var paid = response.GetPaymentResult();
            if (!response.IsSuccessStatusCode)
                throw new CliException($"{method} {request.RequestUri}: {CliContext.Failure(response.StatusCode, body)}");

            var payment = paid is null ? null : new
            {
                protocol = Protocol(paid.Protocol), network = paid.Network, asset = paid.Solana?.Mint.ToString() ?? paid.Asset.ToString(),
                amount = paid.Amount.ToString(), payTo = paid.Solana?.PayTo.ToString() ?? paid.PayTo.ToString(),
                payer = paid.Solana?.Payer.ToString() ?? paid.Payer.ToString(), settled = paid.Settled, transaction = paid.Transaction,
            };
            var session = Header(response, "Payment-Session-Id") is { } id ? new { id, balance = Header(response, "Payment-Session-Balance") } : null;
            context.Print(new { status = (int)response.StatusCode, body, payment, session }, () =>
            {
                Output.Fields(
                    ("status", $"{(int)response.StatusCode} {response.ReasonPhrase}"),
                    ("paid", payment is null ? (session is null ? "nothing" : "by session") : $"{payment.amount} ({payment.protocol}, {payment.network})"),
                    ("settled", payment is null ? null : payment.settled ? "yes" : "no"),
                    ("transaction", payment?.transaction),
                    ("session", session is null ? null : $"{session.id}, balance {session.balance}"));
                Console.Out.WriteLine();
                Console.Out.WriteLine(body);
            });
        }));
        return pay;
    }

    public static string Protocol(PaymentProtocol protocol) => protocol switch
    {
        PaymentProtocol.X402V2 => "x402-v2",
        PaymentProtocol.X402V1 => "x402-v1",
        PaymentProtocol.Mpp => "mpp",
        _ => protocol.ToString(),
    };

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
