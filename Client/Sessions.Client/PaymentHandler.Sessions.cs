using System.Net;
using System.Text;
using System.Text.Json;
using Sessions.Payments;

namespace Sessions.Client;

// Opt-in sessions: the host's first 402 that advertises sessions opens one of the wanted kind (the deposit or pass paid like
// any payment), its token pays from then on, the gate's top-up hint tops it up; a 402 that advertises none, or not the wanted
// kind, is paid by itself; a token the gate no longer takes is dropped and that request is paid by itself.
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

            bool fixedBySession;
            try
            {
                fixedBySession = session is null
                    ? SessionAdvertisement.Read(response) is { } advertised
                      && await OpenSessionAsync(host, request.RequestUri!, advertised, cancellationToken) is not null
                    : await TopUpAsync(host, session, SessionHeaders.TopUpHint(await SessionHeaders.JsonAsync(response, cancellationToken)), cancellationToken);
            }
            catch
            {
                response.Dispose();   // e.g. the deposit or pass refused by the spend policy
                throw;
            }
            if (fixedBySession)
            {
                response.Dispose();
                continue;
            }
            request.Headers.Remove(SessionHeaders.Token);
            return await PayAsync(request, response, cancellationToken);
        }
    }

    /// <summary>
    /// The host's session, opened now as <paramref name="advertised"/> (once, however many requests race); null when the
    /// wanted kind is not sold there (or the deposit is outside the advertised bounds) or the gate did not open it.
    /// </summary>
    async Task<PaymentSession?> OpenSessionAsync(string host, Uri resource, SessionAdvertisement advertised, CancellationToken cancellationToken)
    {
        var wanted = _options.Sessions!;
        var openBody = wanted.Kind switch
        {
            SessionKind.Pass when advertised.Pass is not null => JsonSerializer.Serialize(new { kind = "pass", organization = advertised.Organization }),
            SessionKind.Prepaid when advertised.Prepaid is { } terms && wanted.Deposit >= terms.MinimumDeposit && wanted.Deposit <= terms.MaximumDeposit =>
                JsonSerializer.Serialize(new { deposit = wanted.Deposit.ToString(), organization = advertised.Organization }),
            _ => null,
        };
        if (openBody is null)
            return null;
        var hostLock = _sessions!.LockFor(host);
        await hostLock.WaitAsync(cancellationToken);
        try
        {
            if (_sessions.For(host) is { } opened)
                return opened;
            var origin = new Uri(resource.GetLeftPart(UriPartial.Authority));
            using var open = SessionCall(new Uri(origin, advertised.OpenPath), openBody);
            using var answer = await PayPerRequestAsync(open, cancellationToken);
            if (answer.StatusCode != HttpStatusCode.Created || !answer.Headers.TryGetValues(SessionHeaders.Token, out var tokens)
                || await SessionHeaders.JsonAsync(answer, cancellationToken) is not { } body || !body.TryGetProperty("id", out var id))
                return null;
            var session = new PaymentSession(id.GetString()!, tokens.First(), origin)
            {
                Kind = wanted.Kind,
                Organization = advertised.Organization,
                ClosePath = advertised.ClosePath.Replace("{id}", Uri.EscapeDataString(id.GetString()!), StringComparison.Ordinal),
            };
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
            using var call = SessionCall(new Uri(session.Origin, topUp.Path),
                JsonSerializer.Serialize(new { amount = amount.ToString(), organization = session.Organization }));
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
