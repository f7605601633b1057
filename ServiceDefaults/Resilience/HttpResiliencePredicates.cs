using System.Net;
using Polly;
using Polly.Timeout;

namespace Sessions.ServiceDefaults.Resilience;

public static class HttpResiliencePredicates
{
    // RFC 9110 section 9.2.2: repeating these has the effect of sending them once.
    static readonly HashSet<HttpMethod> IdempotentMethods =
        [HttpMethod.Get, HttpMethod.Head, HttpMethod.Options, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Trace];

    public static bool IsIdempotent(HttpMethod method) => IdempotentMethods.Contains(method);

    /// <summary>Connection failures, attempt timeouts, 408, 429 and 5xx.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => IsTransient(response.StatusCode),
        _ => false,
    };

    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
