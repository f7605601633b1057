using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.SessionApi.Ledger;

/// <summary><c>GET /admin/audit</c>: the accounting check, for operators (header <c>X-Admin-Key</c>).</summary>
public static class LedgerAuditApi
{
    public const string AdminKeyHeader = "X-Admin-Key";

    public static RouteGroupBuilder MapLedgerAuditApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin");
        admin.AddEndpointFilter(RequireAdminKey);
        admin.MapGet("/audit", async Task<Ok<LedgerAuditReport>> (LedgerAudit audit, CancellationToken cancellationToken) =>
            TypedResults.Ok(await audit.AuditAsync(cancellationToken)));
        return admin;
    }

    /// <summary>Endpoint filter for every admin group (ledger audit, webhooks): 401 problem unless <c>X-Admin-Key</c> matches.</summary>
    internal static async ValueTask<object?> RequireAdminKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var configured = context.HttpContext.RequestServices.GetRequiredService<IOptions<SessionApiOptions>>().Value.AdminKey;
        var sent = context.HttpContext.Request.Headers[AdminKeyHeader].ToString();
        // No key configured = no admin access at all; the comparison takes the same time whatever the sent key shares with it.
        if (string.IsNullOrEmpty(configured) || !CryptographicOperations.FixedTimeEquals(Hash(configured), Hash(sent)))
            return Problems.Coded(StatusCodes.Status401Unauthorized, "admin-key-required", "Admin key required",
                $"Send the configured admin key in the {AdminKeyHeader} header.");
        return await next(context);
    }

    static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
