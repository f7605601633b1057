using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using ServiceDefaults.Tests.Support;
using Microsoft.Extensions.Http.Resilience;

namespace ServiceDefaults.Tests.Resilience;

// Every client gets the standard handler from AddServiceDefaults; a real loopback server counts the attempts.
public sealed class ResilienceTests
{
    static readonly Dictionary<string, string?> FastRetries = new()
    {
        ["HttpClientResilience:Retry:Delay"] = "00:00:00.010",
        ["HttpClientResilience:Retry:MaxRetryAttempts"] = "3",
        ["HttpClientResilience:AttemptTimeout:Timeout"] = "00:00:02",
        ["HttpClientResilience:TotalRequestTimeout:Timeout"] = "00:00:10",
    };

    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_is_retried_on_503_until_it_succeeds()
    {
        await using var server = await HandlerServer.StartAsync((context, hit) =>
        {
            context.Response.StatusCode = hit < 3 ? 503 : 200;
            return Task.CompletedTask;
        });
        using var host = ClientHost(FastRetries);

        using var response = await Client(host).GetAsync(server.Address, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, server.Hits);
    }

    [Fact]
    public async Task Get_gives_up_after_the_configured_retries()
    {
        await using var server = await HandlerServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        using var host = ClientHost(FastRetries);

        using var response = await Client(host).GetAsync(server.Address, Cancellation);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(4, server.Hits);   // 1 + MaxRetryAttempts
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    // DisableForUnsafeHttpMethods: only the safe methods (GET, HEAD, OPTIONS, TRACE) are retried.
    public async Task Unsafe_methods_are_never_retried(string method)
    {
        await using var server = await HandlerServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        using var host = ClientHost(FastRetries);

        using var request = new HttpRequestMessage(new HttpMethod(method), server.Address) { Content = new StringContent("{}") };
        using var response = await Client(host).SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, server.Hits);
    }

    [Fact]
    public async Task Post_is_not_retried_after_an_attempt_timeout_either()
    {
        await using var server = await HandlerServer.StartAsync((context, _) => Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted));
        using var host = ClientHost(new(FastRetries) { ["HttpClientResilience:AttemptTimeout:Timeout"] = "00:00:00.200" });

        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => Client(host).PostAsync(server.Address, new StringContent("x"), Cancellation));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(3));
        Assert.Equal(1, server.Hits);
    }

    [Fact]
    public async Task Attempt_timeout_fires_and_the_get_is_retried()
    {
        await using var server = await HandlerServer.StartAsync(async (context, hit) =>
        {
            if (hit == 1)
                await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
            await context.Response.WriteAsync("second time lucky");
        });
        // 1 s per attempt: long enough that the quick second attempt never times out itself on a loaded 2-core machine
        // (a 200 ms one once did), far below the first attempt's 20 s.
        using var host = ClientHost(new(FastRetries) { ["HttpClientResilience:AttemptTimeout:Timeout"] = "00:00:01" });

        var stopwatch = Stopwatch.StartNew();
        var body = await Client(host).GetStringAsync(server.Address, Cancellation);

        Assert.Equal("second time lucky", body);
        Assert.Equal(2, server.Hits);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Total_timeout_bounds_all_attempts()
    {
        await using var server = await HandlerServer.StartAsync((context, _) => Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted));
        // 21 attempts of 300 ms would take 6.5 s; the total timeout stops them after 3 s (long enough that a cold first
        // request on a loaded machine still leaves room for retries: with 1 s, one run saw a single attempt).
        using var host = ClientHost(new(FastRetries)
        {
            ["HttpClientResilience:AttemptTimeout:Timeout"] = "00:00:00.300",
            ["HttpClientResilience:TotalRequestTimeout:Timeout"] = "00:00:03",
            ["HttpClientResilience:Retry:MaxRetryAttempts"] = "20",
        });

        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => Client(host).GetAsync(server.Address, Cancellation));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(2900), TimeSpan.FromSeconds(6));
        Assert.InRange(server.Hits, 2, 11);
    }

    [Fact]
    public async Task Circuit_breaker_opens_and_stops_calling_the_server()
    {
        await using var server = await HandlerServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        using var host = ClientHost(new(FastRetries)
        {
            ["HttpClientResilience:CircuitBreaker:MinimumThroughput"] = "2",
            ["HttpClientResilience:CircuitBreaker:FailureRatio"] = "0.5",
            ["HttpClientResilience:CircuitBreaker:BreakDuration"] = "00:00:30",
        });
        var client = Client(host);

        // POSTs: one attempt each (never retried), so the breaker sees exactly the calls made.
        Assert.Equal(HttpStatusCode.InternalServerError, (await client.PostAsync(server.Address, null, Cancellation)).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await client.PostAsync(server.Address, null, Cancellation)).StatusCode);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.PostAsync(server.Address, null, Cancellation));

        Assert.Equal(2, server.Hits);
        // The breaker belongs to the client name and outlives handler instances.
        await Assert.ThrowsAsync<BrokenCircuitException>(() => Client(host).GetAsync(server.Address, Cancellation));
        Assert.Equal(2, server.Hits);
    }

    [Fact]
    public async Task A_named_client_can_opt_out()
    {
        await using var server = await HandlerServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var builder = Builder(FastRetries);
#pragma warning disable EXTEXP0001 // experimental API, as in SessionApi's webhook client
        builder.Services.AddHttpClient("streaming").RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        using var host = builder.Build();
        var factory = host.Services.GetRequiredService<IHttpClientFactory>();

        using var optedOut = await factory.CreateClient("streaming").GetAsync(server.Address, Cancellation);
        Assert.Equal(1, server.Hits);

        using var standard = await factory.CreateClient("other").GetAsync(server.Address, Cancellation);
        Assert.Equal(1 + 4, server.Hits);
    }

    [Fact]
    public void Options_bind_from_the_HttpClientResilience_section()
    {
        using var host = ClientHost(new()
        {
            ["HttpClientResilience:TotalRequestTimeout:Timeout"] = "00:00:45",
            ["HttpClientResilience:Retry:MaxRetryAttempts"] = "5",
            ["HttpClientResilience:CircuitBreaker:BreakDuration"] = "00:00:07",
        });
        // ConfigureHttpClientDefaults: one options instance for every client, named after the handler.
        var options = host.Services.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get("-standard");

        Assert.Equal(TimeSpan.FromSeconds(45), options.TotalRequestTimeout.Timeout);
        Assert.Equal(5, options.Retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(7), options.CircuitBreaker.BreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout.Timeout);   // the package's default
    }

    static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        return builder;
    }

    static IHost ClientHost(Dictionary<string, string?> settings) => Builder(settings).Build();

    static HttpClient Client(IHost host) => host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("test");
}
