using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SessionApi.Tests.Webhooks;

/// <summary>
/// A real HTTP receiver on a free loopback port (Kestrel): records every request as it arrived (headers, raw body) and
/// answers <see cref="Status"/> of the request's number (1-based, over all requests).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(int Number, string? Id, string? Event, string? Signature, string? Attempt, string? ContentType, byte[] Body,
        int AnsweredWith, DateTimeOffset At)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);

        public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Body).RootElement.Clone();
    }

    readonly WebApplication _app;
    readonly ConcurrentQueue<Received> _received = new();
    int _count;

    /// <summary>The answer to request number n (1-based). Default: 200.</summary>
    public Func<int, int> Status { get; set; } = _ => 200;

    public string Url { get; private set; } = "";

    public IReadOnlyList<Received> Requests => [.. _received];

    WebhookReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/hooks", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var number = Interlocked.Increment(ref _count);
            var status = Status(number);
            var headers = http.Request.Headers;
            _received.Enqueue(new Received(number, headers["Webhook-Id"], headers["Webhook-Event"], headers["Webhook-Signature"],
                headers["Webhook-Attempt"], http.Request.ContentType, buffer.ToArray(), status, DateTimeOffset.UtcNow));
            return Results.StatusCode(status);
        });
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hooks";
        return receiver;
    }

    /// <summary>The requests for which <paramref name="predicate"/> holds, once there are at least <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<Received>> WaitForAsync(Func<Received, bool> predicate, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var matching = Requests.Where(predicate).ToList();
            if (matching.Count >= count) return matching;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Expected {count} matching webhook requests, got {matching.Count}; all: " +
                    string.Join(" | ", Requests.Select(r => $"#{r.Number} {r.Event} {r.Id} -> {r.AnsweredWith}")));
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    public Task<IReadOnlyList<Received>> WaitForEventAsync(string eventName, int count = 1, TimeSpan? timeout = null) =>
        WaitForAsync(r => r.Event == eventName && r.AnsweredWith is >= 200 and < 300, count, timeout);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
