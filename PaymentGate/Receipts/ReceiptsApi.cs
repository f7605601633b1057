using Sessions.ServiceDefaults.Admin;
using Sessions.ServiceDefaults.Payers;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Receipts;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Receipts;

/// <summary>One stored receipt: its JWS (what verifies) and the payload it signs (for reading).</summary>
public sealed record ReceiptItem(string Id, string Jws, Receipt Receipt);

/// <summary>A page, newest first; <see cref="Next"/>: pass it as <c>before</c> for the next page (null: last page).</summary>
public sealed record ReceiptPage(IReadOnlyList<ReceiptItem> Items, string? Next);

/// <summary>
/// <c>GET /api/receipts</c>: the payer's receipts with its session token (<c>Payment-Session</c>), or, with the gate's admin
/// key (<c>X-Admin-Key</c>, <c>Gate:AdminKey</c>), anyone's, filtered by <c>organization</c> and <c>payer</c>.
/// Paged by <c>limit</c> (1–100, default 50) and <c>before</c> (the last id of the previous page).
/// </summary>
public static class ReceiptsApi
{
    public static IEndpointRouteBuilder MapReceipts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/receipts", ListAsync).WithName("ListReceipts")
            .WithSummary("Signed receipts: the payer's (Payment-Session token) or, with X-Admin-Key, an organisation's")
            .Produces<ReceiptPage>().ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    static async Task ListAsync(HttpContext context, ReceiptStore store, SessionApiClient api, PricingCatalog catalog,
        IOptions<GateOptions> options, string? organization = null, string? payer = null, int? limit = null, string? before = null)
    {
        var take = Math.Clamp(limit ?? 50, 1, 100);
        if (context.Request.Headers.ContainsKey(AdminKey.Header))
        {
            if (!AdminKey.Matches(context.Request, options.Value.AdminKey))
            {
                await Problems.WriteAsync(context, 401, "admin-key-required", "Admin key required",
                    $"Send the gate's admin key (Gate:AdminKey) in the {AdminKey.Header} header.");
                return;
            }
        }
        else
        {
            // A payer sees only its own receipts: the token proves which payer it is; filters of others are ignored.
            var token = SessionSpending.TakeToken(context.Request);
            if (!await SessionsGateApi.RequireTokenAsync(context, token))
                return;
            try
            {
                if (await SessionsGateApi.ResolveAsync(context, api, catalog, token!) is not { } owned)
                {
                    await Problems.WriteAsync(context, 401, "session-token-unknown", "Unknown session token",
                        $"The {SessionSpending.TokenHeader} token is not a session here.");
                    return;
                }
                (payer, organization) = (owned.Session.Payer, null);
            }
            catch (SessionApiUnavailableException exception)
            {
                await Paywall.PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable", exception.Message);
                return;
            }
        }
        var page = await store.ListAsync(payer is null ? null : PayerContext.NormalizeAddress(payer), organization, take, before, context.RequestAborted);
        var items = page.Select(r => new ReceiptItem(r.Receipt.Id, r.Jws, r.Receipt)).ToList();
        await TypedResults.Ok(new ReceiptPage(items, items.Count == take ? items[^1].Id : null)).ExecuteAsync(context);
    }
}
