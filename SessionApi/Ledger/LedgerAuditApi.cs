using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Admin;

namespace Sessions.SessionApi.Ledger;

/// <summary><c>GET /admin/audit</c>: the accounting check, for operators (header <c>X-Admin-Key</c>).</summary>
public static class LedgerAuditApi
{
    public static RouteGroupBuilder MapLedgerAuditApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin");
        admin.AddEndpointFilter(RequireAdminKey);
        admin.MapGet("/audit", async Task<Ok<LedgerAuditReport>> (LedgerAudit audit, CancellationToken cancellationToken) =>
            TypedResults.Ok(await audit.AuditAsync(cancellationToken)));
        return admin;
    }

    /// <summary>Endpoint filter for every admin group (ledger audit and chain, webhooks): 401 problem unless <c>X-Admin-Key</c> matches.</summary>
    internal static readonly Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> RequireAdminKey =
        AdminKey.Filter(services => services.GetRequiredService<IOptions<SessionApiOptions>>().Value.AdminKey);
}
