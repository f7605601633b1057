using Microsoft.AspNetCore.Http.Features;
using Sessions.ServiceDefaults.Errors;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.PaymentGate.Proxy;

/// <summary>
/// Outermost middleware of the gate, before routing, pricing and ServiceDefaults' payer-context verifier. It removes any
/// <c>X-Payer-Context</c> a client sent (only the paywall adds one, after a payment), and refuses with 400 what could be
/// read two ways: a path with an encoded '.', '/' or '\' (or a dot segment), which the server decodes and normalises into
/// another path than the one a client, a log or a price lookup sees (<c>invalid-path</c>); and two payment credentials in
/// one request (<c>ambiguous-payment</c>), where the answer would depend on which parser ran first. Nothing is looked up,
/// charged or forwarded for either.
/// </summary>
internal sealed class GateRequestGuard : IStartupFilter
{
    public const string InvalidPath = "invalid-path";
    public const string AmbiguousPayment = "ambiguous-payment";

    // An encoded '.', '/' or '\': one decoding away from a path of another shape.
    static readonly string[] EncodedSeparators = ["%2e", "%2f", "%5c"];

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Request.Headers.Remove(PayerContextSigner.HeaderName);
            if (DisguisedPath(context) is { } path)
                return RefuseAsync(context, InvalidPath, "Invalid path",
                    $"The path '{path}' contains an encoded '.', '/' or '\\' or a dot segment; send the path as it is meant, unencoded.");
            if (GateCredentials.PaymentCredentialsIn(context.Request) is { Count: > 1 } sent)
                return RefuseAsync(context, AmbiguousPayment, "Ambiguous payment",
                    $"The request carries {string.Join(" and ", sent)}: send one payment credential per request. Nothing was charged.");
            return nextMiddleware(context);
        });
        next(app);
    };

    /// <summary>
    /// The request target's path as the client sent it when it is disguised, else null. The server has decoded it once
    /// (keeping %2F) and removed dot segments: what the client sent is read for those, and both forms for encoded separators,
    /// so a double encoding (<c>%252e</c>, <c>%25%32%65</c>) is caught as well as a single one.
    /// </summary>
    static string? DisguisedPath(HttpContext context)
    {
        // Runs on every request, free routes included: spans, no allocation unless the path is refused.
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var target = (string.IsNullOrEmpty(raw) ? context.Request.Path.Value ?? "" : raw).AsSpan();
        if (target.IndexOfAny('?', '#') is var end and >= 0)
            target = target[..end];
        var disguised = HasDotSegment(target) || HasEncodedSeparator(target) || HasEncodedSeparator(context.Request.Path.Value);
        return disguised ? target.ToString() : null;
    }

    static bool HasDotSegment(ReadOnlySpan<char> path)
    {
        foreach (var segment in path.Split('/'))
            if (path[segment] is "." or "..")
                return true;
        return false;
    }

    static bool HasEncodedSeparator(ReadOnlySpan<char> path)
    {
        if (path.Contains('\\'))
            return true;
        if (!path.Contains('%'))
            return false;
        foreach (var encoded in EncodedSeparators)
            if (path.Contains(encoded, StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }

    static Task RefuseAsync(HttpContext context, string code, string title, string detail) =>
        Problems.WriteAsync(context, StatusCodes.Status400BadRequest, code, title, detail);
}
