using System.CommandLine;
using Sessions.Client;
using Sessions.Payments.Receipts;

namespace Sessions.Cli;

/// <summary>
/// <c>receipts verify FILE [--jwks URL|FILE] [--body FILE]</c>: checks a gate receipt (docs/receipts.md), offline with a saved
/// JWK set; <c>receipts list</c>: your receipts (<c>GET /api/receipts</c> with a stored session token), or an organisation's
/// with <c>--admin-key</c>.
/// </summary>
public static class ReceiptCommands
{
    public static Command Create()
    {
        var receipts = new Command("receipts", "Signed receipts of paid answers: verify one, list yours");

        var fileArgument = new Argument<string>("file") { Description = "A file holding the receipt (the Sessions-Receipt JWS)" };
        var jwksOption = new Option<string?>("--jwks") { Description = "The gate's JWK set: a file or URL (default: the gate's /.well-known/jwks.json)" };
        var bodyOption = new Option<string?>("--body") { Description = "The answer's body, checked against the receipt's responseSha256" };
        var verify = new Command("verify", "Verify a receipt's signature (Ed25519, JWKS) and optionally the response body it covers")
            { fileArgument, jwksOption, bodyOption };
        verify.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var file = parse.GetRequiredValue(fileArgument);
            if (!File.Exists(file))
                throw new CliException($"receipts verify: {file} does not exist");
            var jws = (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
            var keys = await JwksAsync(context, parse.GetValue(jwksOption), cancellationToken);
            var bodyFile = parse.GetValue(bodyOption);
            var body = bodyFile is null ? [] : await File.ReadAllBytesAsync(bodyFile, cancellationToken);
            var check = new ReceiptVerifier(keys).Verify(jws, body, checkResponseBody: bodyFile is not null);
            if (!check.IsValid)
                throw new CliException($"receipt invalid: {check.Error}");
            var receipt = check.Receipt!;
            context.Print(new { valid = true, receipt }, () => Output.Fields(
                ("valid", bodyFile is null ? "yes (signature)" : "yes (signature and response body)"), ("id", receipt.Id), ("method", receipt.Method),
                ("payer", receipt.Payer), ("organization", receipt.Organization), ("route", receipt.Route), ("amount", receipt.Amount),
                ("session", receipt.SessionId), ("balance after", receipt.BalanceAfter), ("reference", receipt.Reference),
                ("latency ms", receipt.LatencyMs.ToString()), ("time", receipt.Timestamp)));
        }));

        var limitOption = new Option<int?>("--limit") { Description = "How many (1-100, default 50)" };
        var beforeOption = new Option<string?>("--before") { Description = "The next page: the last id of the previous one" };
        var organizationOption = new Option<string?>("--organization") { Description = "With --admin-key: one organisation's receipts" };
        var adminKeyOption = new Option<string?>("--admin-key") { Description = "The gate's admin key (env SESSIONS_ADMIN_KEY): every payer's receipts" };
        var list = new Command("list", "Your receipts, newest first (GET /api/receipts with a stored session token)")
            { limitOption, beforeOption, organizationOption, adminKeyOption };
        list.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var query = new List<string>();
            if (parse.GetValue(limitOption) is { } limit) query.Add($"limit={limit}");
            if (parse.GetValue(beforeOption) is { } before) query.Add($"before={Uri.EscapeDataString(before)}");
            if (parse.GetValue(organizationOption) is { } organization) query.Add($"organization={Uri.EscapeDataString(organization)}");
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/receipts" + (query.Count == 0 ? "" : "?" + string.Join('&', query)));
            if ((parse.GetValue(adminKeyOption) ?? Environment.GetEnvironmentVariable("SESSIONS_ADMIN_KEY")) is { Length: > 0 } adminKey)
                request.Headers.TryAddWithoutValidation("X-Admin-Key", adminKey);
            else
                request.Headers.TryAddWithoutValidation("Payment-Session", SessionState.Load(context.StatePath).AnyToken(context.Gate, context.StatePath));
            using var response = await context.PlainClient().SendAsync(request, cancellationToken);
            var page = await CliContext.JsonOrFailAsync(response, "receipts list", cancellationToken);
            context.Print(page, () => Output.Table(["ID", "TIME", "METHOD", "ROUTE", "AMOUNT", "SESSION", "BALANCE AFTER"],
                PricingCommand.Items(page, "items").Select(i => i.GetProperty("receipt")).Select(r => (IReadOnlyList<string?>)
                    [CliContext.Text(r, "id"), CliContext.Text(r, "timestamp"), CliContext.Text(r, "method"), CliContext.Text(r, "route"),
                     CliContext.Text(r, "amount"), CliContext.Text(r, "sessionId"), CliContext.Text(r, "balanceAfter")])));
        }));

        receipts.Add(verify);
        receipts.Add(list);
        return receipts;
    }

    /// <summary>The JWK set from a file, a URL, or the gate's well-known path.</summary>
    static async Task<JwkSet> JwksAsync(CliContext context, string? source, CancellationToken cancellationToken)
    {
        if (source is not null && File.Exists(source))
            return JwkSet.TryParse(await File.ReadAllTextAsync(source, cancellationToken))
                ?? throw new CliException($"receipts verify: {source} is not a JWK set");
        var url = source is null ? null : context.Resolve(source);
        try
        {
            return await GateReceipts.FetchJwksAsync(context.PlainClient(), url, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"receipts verify: {e.Message}");
        }
    }
}
