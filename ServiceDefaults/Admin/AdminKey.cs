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
            var key = configured(context.HttpContext.RequestServices);
            var sent = context.HttpContext.Request.Headers[Header].ToString();
            if (string.IsNullOrEmpty(key) || !CryptographicOperations.FixedTimeEquals(Hash(key), Hash(sent)))
                return Problems.Coded(StatusCodes.Status401Unauthorized, "admin-key-required", "Admin key required",
                    $"Send the configured admin key in the {Header} header.");
            return await next(context);
        };

    static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
