using System.CommandLine;
using System.Text.Json;
using Sessions.Client;

namespace Sessions.Cli;

/// <summary>
/// <c>session open | list | show | top-up | close</c>: the gate's session endpoints. Opening and topping up are paid through
/// the PaymentHandler (never more than the deposit or amount); the token of an opened session is kept in the state file.
/// </summary>
public static class SessionCommands
{
    public const string TokenHeader = "Payment-Session";

    public static Command Create()
    {
        var session = new Command("session", "Prepaid sessions at the gate: pay once, spend request by request, close for the refund");
        var idArgument = new Argument<string>("id") { Description = "The session id (ses_…)" };

        var depositOption = new Option<string>("--deposit") { Description = "The deposit, atomic units (default with --offer: the offer's)" };
        var offerOption = new Option<string>("--offer") { Description = "A signed offer (the jws of 'session offer'): the session is bound to its terms" };
        var open = new Command("open", "Open a prepaid session (POST /api/sessions, paid) and store its token") { depositOption, offerOption };
        open.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var offer = parse.GetValue(offerOption);
            var depositText = parse.GetValue(depositOption) ?? (offer is null ? null : OfferDeposit(offer))
                ?? throw new CliException("session open: --deposit is required (or --offer)");
            var deposit = CommandRunner.Atomic(depositText, "--deposit");
            var client = context.PayingClient(new SpendPolicy { MaxPerPayment = deposit });
            using var response = await client.PostAsync("api/sessions", CliContext.JsonBody(new { deposit = deposit.ToString(), offer }), cancellationToken);
            var opened = await CliContext.JsonOrFailAsync(response, "session open", cancellationToken);
            var id = CliContext.Text(opened, "id") ?? throw new CliException("session open: the gate's answer has no session id");
            var token = PayCommand.Header(response, TokenHeader) ?? CliContext.Text(opened, "token")
                ?? throw new CliException("session open: the gate's answer has no session token");
            var state = SessionState.Load(context.StatePath);
            state.Sessions[id] = new StoredSession(token, context.Gate.ToString(), DateTimeOffset.UtcNow);
            state.Save(context.StatePath);
            var paid = Paid(response);
            context.Print(new { session = opened, payment = paid.Json }, () => Show(opened, paid.Line, ("token in", context.StatePath)));
        }));

        var list = new Command("list", "Your sessions at the gate, newest first (GET /api/sessions with any stored token)");
        list.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var sessions = await WithTokenAsync(context, HttpMethod.Get, "api/sessions", SessionState.Load(context.StatePath).AnyToken(context.Gate, context.StatePath),
                "session list", cancellationToken);
            context.Print(sessions, () => Output.Table(["ID", "STATE", "DEPOSIT", "TOPPED UP", "SPENT", "BALANCE", "REFUNDED", "REQUESTS", "EXPIRES"],
                PricingCommand.Items(sessions, "items").Select(s => (IReadOnlyList<string?>)
                    [CliContext.Text(s, "id"), CliContext.Text(s, "state"), CliContext.Text(s, "deposit"), CliContext.Text(s, "toppedUp"), CliContext.Text(s, "spent"),
                     CliContext.Text(s, "balance"), CliContext.Text(s, "refunded"), CliContext.Text(s, "requestCount"), CliContext.Text(s, "expiresAt")])));
        }));

        var show = new Command("show", "One session (GET /api/sessions/{id} with its stored token)") { idArgument };
        show.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var id = parse.GetRequiredValue(idArgument);
            var shown = await WithTokenAsync(context, HttpMethod.Get, $"api/sessions/{Uri.EscapeDataString(id)}", SessionState.Load(context.StatePath).TokenOf(id, context.StatePath),
                "session show", cancellationToken);
            context.Print(shown, () => Show(shown));
        }));

        var amountOption = new Option<string>("--amount") { Description = "What to add, atomic units", Required = true };
        var topUp = new Command("top-up", "Add to a session's balance (POST /api/sessions/{id}/topup, paid)") { idArgument, amountOption };
        topUp.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var id = parse.GetRequiredValue(idArgument);
            var amount = CommandRunner.Atomic(parse.GetRequiredValue(amountOption), "--amount");
            var client = context.PayingClient(new SpendPolicy { MaxPerPayment = amount });
            using var response = await client.PostAsync($"api/sessions/{Uri.EscapeDataString(id)}/topup", CliContext.JsonBody(new { amount = amount.ToString() }), cancellationToken);
            var topped = await CliContext.JsonOrFailAsync(response, "session top-up", cancellationToken);
            var paid = Paid(response);
            context.Print(new { session = topped, payment = paid.Json }, () => Show(topped, paid.Line));
        }));

        var close = new Command("close", "Close a session and get the rest back (POST /api/sessions/{id}/close)") { idArgument };
        close.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var id = parse.GetRequiredValue(idArgument);
            var closed = await WithTokenAsync(context, HttpMethod.Post, $"api/sessions/{Uri.EscapeDataString(id)}/close", SessionState.Load(context.StatePath).TokenOf(id, context.StatePath),
                "session close", cancellationToken);
            context.Print(closed, () => Output.Fields(("id", CliContext.Text(closed, "id")), ("state", CliContext.Text(closed, "state")),
                ("refunded", CliContext.Text(closed, "refunded")), ("method", CliContext.Text(closed, "method")), ("transaction", CliContext.Text(closed, "transaction"))));
        }));

        session.Add(OfferCommand());
        session.Add(open);
        session.Add(list);
        session.Add(show);
        session.Add(topUp);
        session.Add(close);
        return session;
    }

    static Command OfferCommand() => OfferCommands.Create();

    /// <summary>A call that pays nothing and shows the session's token (<c>Payment-Session</c>).</summary>
    static async Task<JsonElement> WithTokenAsync(CliContext context, HttpMethod method, string path, string token, string what, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation(TokenHeader, token);
        using var response = await context.PlainClient().SendAsync(request, cancellationToken);
        return await CliContext.JsonOrFailAsync(response, what, cancellationToken);
    }

    /// <summary>What opening or topping up paid, for --json and for humans.</summary>
    static (object? Json, (string, string?) Line) Paid(HttpResponseMessage response) => response.GetPaymentResult() is { } paid
        ? (new { protocol = PayCommand.Protocol(paid.Protocol), amount = paid.Amount.ToString(), transaction = paid.Transaction },
           ("paid", $"{paid.Amount} ({PayCommand.Protocol(paid.Protocol)}), transaction {paid.Transaction}"))
        : (null, ("paid", null));

    static void Show(JsonElement session, params (string, string?)[] extra) => Output.Fields(
        [("id", CliContext.Text(session, "id")), ("state", CliContext.Text(session, "state")), ("deposit", CliContext.Text(session, "deposit")),
         ("topped up", CliContext.Text(session, "toppedUp")), ("spent", CliContext.Text(session, "spent")), ("balance", CliContext.Text(session, "balance")),
         ("refunded", CliContext.Text(session, "refunded")), ("requests", CliContext.Text(session, "requestCount")), ("expires", CliContext.Text(session, "expiresAt")),
         .. OfferCommands.TermsLines(session), .. extra]);

    static string? OfferDeposit(string jws)
    {
        try
        {
            return CliContext.Text(JsonDocument.Parse(Sessions.Payments.Receipts.Jws.PayloadOf(jws)).RootElement, "deposit");
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
