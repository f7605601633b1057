using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;

namespace Chaos.Tests;

/// <summary>
/// Callers spending one session through the gate, each one request at a time, and the client's own record: the request id
/// of every 200 whose answer it read to the end, the requests cut off by a kill (in flight when a process was killed, ended
/// without an answer), those refused while the gate was down (sent after the kill), and the count of every other status.
/// </summary>
public sealed class SessionLoad : IAsyncDisposable
{
    readonly HttpClient _http;
    readonly string _token;
    readonly CancellationTokenSource _stop = new();
    readonly Task[] _callers;
    readonly ConcurrentDictionary<HttpStatusCode, int> _statuses = new();
    readonly ConcurrentDictionary<HttpStatusCode, int> _failingStatuses = new();
    volatile bool _stopping;
    int _next;
    int _killsStarted;
    int _killsDone;
    int _cutOff;
    int _refused;

    public SessionLoad(string gateUrl, string token, int callers)
    {
        _token = token;
        // Pooled connections: the handler may resend a request whose pooled connection died on a fresh one (see CutOff).
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            BaseAddress = new Uri(gateUrl), Timeout = TimeSpan.FromSeconds(30),
        };
        _callers = Enumerable.Range(0, callers).Select(_ => Task.Run(CallAsync)).ToArray();
    }

    /// <summary>Request ids of the 200s received in full: each must have its debit in the ledger.</summary>
    public ConcurrentBag<string> Received { get; } = [];
    /// <summary>
    /// Requests in flight when a process was killed that got no answer: the only ones that may be charged without having been
    /// received (the window). The handler may resend a request whose pooled connection died on a fresh one, which the dead
    /// gate refuses: so "in flight at a kill" is decided by when the request started, not by the error it ended with.
    /// </summary>
    public int CutOff => _cutOff;
    /// <summary>Requests started after a kill that found no gate: never reached one.</summary>
    public int Refused => _refused;

    /// <summary>Runs <paramref name="kill"/>: requests in flight at any moment of it that end without an answer count as cut off.</summary>
    public async Task KillAsync(Func<Task> kill)
    {
        Interlocked.Increment(ref _killsStarted);
        await kill();
        Interlocked.Increment(ref _killsDone);
    }

    /// <summary>Bodies of 500s to requests the upstream did not fail: the gate's own errors.</summary>
    public ConcurrentBag<string> Unexpected { get; } = [];

    public string Summary() => $"{Received.Count} received (200), {CutOff} cut off by a kill, {Refused} refused, statuses: " +
        $"{Statuses(_statuses)}; of requests failing upstream: {Statuses(_failingStatuses)}";

    static string Statuses(ConcurrentDictionary<HttpStatusCode, int> statuses) =>
        string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{(int)s.Key}x{s.Value}"));

    async Task CallAsync()
    {
        // Stopping lets each request in flight finish: a stop that cut answers off would widen the window it measures.
        while (!_stopping)
        {
            // One request in 20 fails upstream: its hold must be released, whatever dies meanwhile.
            var n = Interlocked.Increment(ref _next);
            var failing = n % 20 == 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, failing ? $"/api/content/fail-{n}" : $"/api/content/chaos-{n}");
            request.Headers.TryAddWithoutValidation("Payment-Session", _token);
            var killsDoneBefore = Volatile.Read(ref _killsDone);
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, _stop.Token);
                var body = await response.Content.ReadAsStringAsync(_stop.Token);
                (failing ? _failingStatuses : _statuses).AddOrUpdate(response.StatusCode, 1, (_, count) => count + 1);
                if (response.StatusCode == HttpStatusCode.InternalServerError && !failing)
                    Unexpected.Add(body);
                if (response.StatusCode == HttpStatusCode.OK && !failing)
                    Received.Add(JsonDocument.Parse(body).RootElement.GetProperty("requestId").GetString()!);
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    await Task.Delay(20);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Still in flight 30 s after the stop: it may have been charged and not received.
                Interlocked.Increment(ref _cutOff);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException)
            {
                // A kill that began before this request ended and had not finished when it started: in flight at the kill.
                Interlocked.Increment(ref Volatile.Read(ref _killsStarted) > killsDoneBefore ? ref _cutOff : ref _refused);
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> more 200s arrived (the stack serves), within <paramref name="timeout"/>.</summary>
    public async Task ServedAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var target = Received.Count + count;
        var deadline = DateTime.UtcNow + timeout;
        while (Received.Count < target)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The gate served fewer than {count} requests within {timeout.TotalSeconds:0} s ({Summary()}).");
            await Task.Delay(20, cancellationToken);
        }
    }

    public async Task StopAsync()
    {
        _stopping = true;
        _stop.CancelAfter(TimeSpan.FromSeconds(30));
        await Task.WhenAll(_callers);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping)
            await StopAsync();
        _http.Dispose();
        _stop.Dispose();
    }
}
