using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.ServiceDefaults.Admin;

/// <summary>The operators' key of a service's admin endpoints (header <c>X-Admin-Key</c>).</summary>
public static class AdminKey
{
    public const string Header = "X-Admin-Key";

    /// <summary>
    /// Endpoint filter: 401 problem <c>admin-key-required</c> unless <c>X-Admin-Key</c> is the key <paramref name="configured"/>
    /// reads from the request's services. No key configured = no admin access at all; the comparison takes the same time
    /// whatever the sent key shares with it.
    /// </summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> Filter(Func<IServiceProvider, string?> configured) =>
        async (context, next) =>
        {
            if (!Matches(context.HttpContext.Request, configured(context.HttpContext.RequestServices)))
                return Problems.Coded(StatusCodes.Status401Unauthorized, "admin-key-required", "Admin key required",
                    $"Send the configured admin key in the {Header} header.");
            return await next(context);
        };

    /// <summary>True when the request's <c>X-Admin-Key</c> is <paramref name="configured"/> (never when none is configured).</summary>
    public static bool Matches(HttpRequest request, string? configured) =>
        !string.IsNullOrEmpty(configured) && CryptographicOperations.FixedTimeEquals(Hash(configured), Hash(request.Headers[Header].ToString()));

    static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
