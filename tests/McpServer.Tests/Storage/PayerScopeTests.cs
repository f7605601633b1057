using System.Collections.Concurrent;
using McpServer.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.McpServer.Storage;
using Sessions.ServiceDefaults.Payers;

namespace McpServer.Tests.Storage;

/// <summary>
/// The payer's session without passing the payer around (issue 7, PROTOCOLS.md §3 "Context"): a small app with the real
/// payer-context middleware and the singleton store shows that the payer follows the request (the accessor reads the
/// request's HttpContext, an AsyncLocal) — unpaid requests get none, a new request or work started without the
/// execution context inherits nothing, concurrent requests never see each other's keys.
/// </summary>
public sealed class PayerScopeTests : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    const string None = "none";

    readonly WebApplication _app;
    HttpClient? _inner;
    readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();

    public PayerScopeTests()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration["PayerContext:SigningKey"] = Payers.SigningKey;
        builder.Configuration["PayerStore:Provider"] = "memory";
        builder.AddPayerContext();
        builder.AddPayerStore();
        _app = builder.Build();

        _app.MapGet("/who", (IPayerStore store) => Who(store));
        _app.MapGet("/unpaid-get", async (IPayerStore store) =>
        {
            try
            {
                await store.GetAsync("anything", Ct);
                return "no exception";
            }
            catch (PayerRequiredException e)
            {
                return e.GetType().Name;
            }
        });
        _app.MapGet("/background", async (IPayerStore store) =>
        {
            Task<string> detached;
            using (ExecutionContext.SuppressFlow()) detached = Task.Run(() => Who(store));
            var flowing = await Task.Run(() => Who(store));
            return $"{Who(store)}|{await detached}|{flowing}";
        });
        // A request made while serving another, e.g. an in-process call to another endpoint: its own payer or none.
        _app.MapGet("/nested", async (IPayerStore store, string? asPayer) =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/who");
            if (asPayer is not null) request.Headers.Add(PayerContextSigner.HeaderName, Payers.Header(asPayer));
            using var response = await _inner!.SendAsync(request);
            return $"{Who(store)}|{await response.Content.ReadAsStringAsync()}|{Who(store)}";
        });
        // Writes its payer's key, waits until the other request of the round has written too, then reports what it sees.
        _app.MapGet("/round/{round}", async (IPayerStore store, string round) =>
        {
            var key = "k" + store.Payer[2..10];
            await store.SetAsync(key, store.Payer);
            var gate = _gates.GetOrAdd(round, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!_gates.TryAdd(round + ":second", gate)) gate.TrySetResult();
            await gate.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var listed = (await store.ListAsync(new())).Items.Select(item => $"{item.Key}={item.Value}");
            return $"{store.Payer}|{string.Join(",", listed)}";
        });
        _app.StartAsync(Ct).GetAwaiter().GetResult();
        _inner = _app.GetTestClient();
    }

    static string Who(IPayerStore store)
    {
        try
        {
            return store.Payer;
        }
        catch (PayerRequiredException)
        {
            return None;
        }
    }

    HttpClient Client(string? payer)
    {
        var client = _app.GetTestClient();
        return payer is null ? client : client.As(payer);
    }

    [Fact]
    public async Task An_unpaid_request_gets_PayerRequiredException()
    {
        Assert.Equal(nameof(PayerRequiredException), await Client(null).GetStringAsync("/unpaid-get", Ct));
        Assert.Equal(None, await Client(null).GetStringAsync("/who", Ct));
    }

    [Fact]
    public async Task A_paid_request_sees_its_payer_in_lowercase()
    {
        Assert.Equal(Payers.ChecksummedAddress.ToLowerInvariant(), await Client(Payers.ChecksummedAddress).GetStringAsync("/who", Ct));
    }

    [Fact]
    public async Task A_new_request_inherits_nothing_from_the_one_before()
    {
        var payer = Payers.NewAddress();
        Assert.Equal(payer, await Client(payer).GetStringAsync("/who", Ct));
        Assert.Equal(None, await Client(null).GetStringAsync("/who", Ct));
    }

    [Fact]
    public async Task Work_started_without_the_execution_context_inherits_nothing()
    {
        var payer = Payers.NewAddress();
        // The request itself and work that flows its context (same request) see the payer; detached work does not.
        Assert.Equal($"{payer}|{None}|{payer}", await Client(payer).GetStringAsync("/background", Ct));
    }

    [Fact]
    public async Task A_nested_request_has_its_own_payer_or_none_and_leaves_the_outer_one_alone()
    {
        var outer = Payers.NewAddress();
        var other = Payers.NewAddress();
        Assert.Equal($"{outer}|{None}|{outer}", await Client(outer).GetStringAsync("/nested", Ct));
        Assert.Equal($"{outer}|{other}|{outer}", await Client(outer).GetStringAsync($"/nested?asPayer={other}", Ct));
        Assert.Equal($"{None}|{other}|{None}", await Client(null).GetStringAsync($"/nested?asPayer={other}", Ct));
    }

    [Fact]
    public async Task Concurrent_requests_with_different_payers_never_see_each_others_keys()
    {
        var rounds = Enumerable.Range(0, 20).Select(async round =>
        {
            var first = Payers.NewAddress();
            var second = Payers.NewAddress();
            // Both requests are inside the endpoint at once (each waits for the other) before they list.
            var answers = await Task.WhenAll(
                Client(first).GetStringAsync($"/round/{round}", Ct),
                Client(second).GetStringAsync($"/round/{round}", Ct));
            Assert.Equal($"{first}|k{first[2..10]}={first}", answers[0]);
            Assert.Equal($"{second}|k{second[2..10]}={second}", answers[1]);
        });
        await Task.WhenAll(rounds);
    }

    public async ValueTask DisposeAsync()
    {
        _inner?.Dispose();
        await _app.DisposeAsync();
    }
}
