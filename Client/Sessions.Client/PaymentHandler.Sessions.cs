using System.Net;
using System.Text;
using Sessions.Payments;

namespace Sessions.Client;

// Opt-in sessions: the host's first 402 opens a session (the deposit paid like any payment), its token pays from then on,
// the gate's top-up hint tops it up; a token the gate no longer takes is dropped and that request is paid by itself.
public sealed partial class PaymentHandler
{
    const int SessionAttempts = 3;

    async Task<HttpResponseMessage> SendWithSessionAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var host = HostOf(request);
        for (var attempt = 1; ; attempt++)
        {
            var session = _sessions!.For(host);
            request.Headers.Remove(SessionHeaders.Token);
            if (session is not null)
                request.Headers.TryAddWithoutValidation(SessionHeaders.Token, session.Token);
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.PaymentRequired || attempt == SessionAttempts)
                return response;

            var fixedBySession = session is null
                ? await OpenSessionAsync(host, request.RequestUri!, cancellationToken) is not null
                : await TopUpAsync(host, session, SessionHeaders.TopUpHint(await SessionHeaders.JsonAsync(response, cancellationToken)), cancellationToken);
            if (fixedBySession)
            {
                response.Dispose();
                continue;
            }
            request.Headers.Remove(SessionHeaders.Token);
            return await PayAsync(request, response, cancellationToken);
        }
    }

    /// <summary>The host's session, opened now (once, however many requests race) unless the gate sells none.</summary>
    async Task<PaymentSession?> OpenSessionAsync(string host, Uri resource, CancellationToken cancellationToken)
    {
        var hostLock = _sessions!.LockFor(host);
        await hostLock.WaitAsync(cancellationToken);
        try
        {
            if (_sessions.For(host) is { } opened)
                return opened;
            var origin = new Uri(resource.GetLeftPart(UriPartial.Authority));
            using var open = SessionCall(new Uri(origin, _options.Sessions!.OpenPath), $$"""{"deposit":"{{_options.Sessions.Deposit}}"}""");
            using var answer = await PayPerRequestAsync(open, cancellationToken);
            if (answer.StatusCode != HttpStatusCode.Created || !answer.Headers.TryGetValues(SessionHeaders.Token, out var tokens)
                || await SessionHeaders.JsonAsync(answer, cancellationToken) is not { } body || !body.TryGetProperty("id", out var id))
                return null;
            var session = new PaymentSession(id.GetString()!, tokens.First(), origin);
            _sessions.Add(host, session, (call, token) => base.SendAsync(call, token));
            return session;
        }
        finally
        {
            hostLock.Release();
        }
    }

    /// <summary>
    /// Tops the session up by <see cref="SessionOptions.TopUp"/> (at least the hint's minimum), once for all the requests that
    /// saw the same hint. False: no hint (the token is unusable: expired, closed) or no top-up wanted; the session is dropped.
    /// </summary>
    async Task<bool> TopUpAsync(string host, PaymentSession session, (string Path, AtomicAmount Minimum)? hint, CancellationToken cancellationToken)
    {
        var seen = session.TopUps;
        if (hint is not { } topUp || _options.Sessions!.TopUp is not { } wanted)
        {
            if (hint is null)
                _sessions!.Forget(host, session);
            return false;
        }
        var hostLock = _sessions!.LockFor(host);
        await hostLock.WaitAsync(cancellationToken);
        try
        {
            if (session.TopUps != seen)
                return true;   // another request topped it up meanwhile
            var amount = wanted > topUp.Minimum ? wanted : topUp.Minimum;
            using var call = SessionCall(new Uri(session.Origin, topUp.Path), $$"""{"amount":"{{amount}}"}""");
            using var answer = await PayPerRequestAsync(call, cancellationToken);
            if (answer.StatusCode != HttpStatusCode.OK)
                return false;
            session.TopUps++;
            return true;
        }
        finally
        {
            hostLock.Release();
        }
    }

    static HttpRequestMessage SessionCall(Uri uri, string json)
    {
        var call = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        call.Options.Set(SessionHeaders.Internal, true);
        return call;
    }
}
