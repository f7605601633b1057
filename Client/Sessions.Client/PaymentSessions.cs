using System.Collections.Concurrent;
using Sessions.Payments;

namespace Sessions.Client;

/// <summary>
/// Opt-in sessions (the gate's <c>POST /api/sessions</c>): where a host's 402 advertises sessions
/// (<see cref="SessionAdvertisement"/>), the handler opens one per host, paying the deposit or the pass like any payment (so
/// within the spend policy), then sends the session's token instead of paying. A 402 that advertises none is paid by itself.
/// </summary>
public sealed class SessionOptions
{
    /// <summary>What to buy: a prepaid session of <see cref="Deposit"/> (the default) or a pass at the advertised price.</summary>
    public SessionKind Kind { get; set; } = SessionKind.Prepaid;

    /// <summary>The deposit of each prepaid session, atomic units (required for <see cref="SessionKind.Prepaid"/>).</summary>
    public AtomicAmount Deposit { get; set; }

    /// <summary>What to add when the gate answers with its top-up hint (at least the hint's minimum); null: never top up.</summary>
    public AtomicAmount? TopUp { get; set; }
}

/// <summary>The kinds of session a gate sells.</summary>
public enum SessionKind
{
    /// <summary>A deposit that each request's price is taken from; the rest is refunded at close.</summary>
    Prepaid,
    /// <summary>One payment, free requests until it expires; nothing to refund.</summary>
    Pass,
}

/// <summary>A session the handler opened: its id, token and where it lives.</summary>
public sealed record PaymentSession(string Id, string Token, Uri Origin)
{
    public SessionKind Kind { get; init; } = SessionKind.Prepaid;

    /// <summary>The organisation that sold it (named in top-ups: a gate with several organisations needs it).</summary>
    public string? Organization { get; init; }

    /// <summary>Where it is closed (the advertised template with its id filled in).</summary>
    public string ClosePath { get; init; } = $"/api/sessions/{Uri.EscapeDataString(Id)}/close";

    /// <summary>How many top-ups the handler made; racing requests that all saw the hint top up once.</summary>
    public int TopUps { get; internal set; }
}

/// <summary>A closed session: what came back to the payer (<c>method</c> "ledger" on the local facilitator, else "payout_owed").</summary>
public sealed record SessionClosure(string Id, AtomicAmount Refunded, string Method, string? Transaction);

/// <summary>
/// The sessions of one named client, per host (a keyed singleton like <see cref="SpendLedger"/>). Opening and topping up a
/// host's session is serialised, so concurrent requests open one session and top it up once. Disposing closes them all.
/// </summary>
public sealed class PaymentSessions : IAsyncDisposable
{
    readonly ConcurrentDictionary<string, PaymentSession> _byHost = new();
    readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>? _send;

    public IReadOnlyCollection<PaymentSession> Open => [.. _byHost.Values];

    internal PaymentSession? For(string host) => _byHost.GetValueOrDefault(host);

    internal SemaphoreSlim LockFor(string host) => _locks.GetOrAdd(host, _ => new SemaphoreSlim(1, 1));

    internal void Add(string host, PaymentSession session, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send)
    {
        _byHost[host] = session;
        _send = send;
    }

    internal void Forget(string host, PaymentSession session) => _byHost.TryRemove(new(host, session));

    /// <summary>Closes every open session (<c>POST /api/sessions/{id}/close</c> with its token) and reports each refund.</summary>
    public async Task<IReadOnlyList<SessionClosure>> CloseAllAsync(CancellationToken cancellationToken = default)
    {
        var closures = new List<SessionClosure>();
        foreach (var (host, session) in _byHost)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(session.Origin, session.ClosePath));
            request.Headers.TryAddWithoutValidation(SessionHeaders.Token, session.Token);
            request.Options.Set(SessionHeaders.Internal, true);
            using var response = await _send!(request, cancellationToken);
            var body = await SessionHeaders.JsonAsync(response, cancellationToken);
            if (!response.IsSuccessStatusCode || body is not { } answer)
                throw new HttpRequestException($"Closing session {session.Id} answered {(int)response.StatusCode}.", null, response.StatusCode);
            closures.Add(new SessionClosure(session.Id, AtomicAmount.Parse(answer.GetProperty("refunded").GetString()),
                answer.GetProperty("method").GetString() ?? "", answer.TryGetProperty("transaction", out var t) ? t.GetString() : null));
            Forget(host, session);
        }
        return closures;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_byHost.IsEmpty)
            await CloseAllAsync();
    }
}
