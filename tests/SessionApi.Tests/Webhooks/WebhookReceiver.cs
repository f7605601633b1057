using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

/// <summary>
/// A real HTTP receiver on a free loopback port (a <see cref="LoopbackServer"/>): records every request as it arrived
/// (headers, raw body) and answers <see cref="Status"/> of the request's number (1-based, over all requests).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(int Number, string? Id, string? Event, string? Signature, string? Attempt, string? ContentType, byte[] Body,
        int AnsweredWith, DateTimeOffset At)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);

        public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Body).RootElement.Clone();
    }

    readonly ConcurrentQueue<Received> _received = new();
    LoopbackServer _server = null!;
    int _count;

    /// <summary>The answer to request number n (1-based). Default: 200.</summary>
    public Func<int, int> Status { get; set; } = _ => 200;

    public string Url { get; private set; } = "";

    public IReadOnlyList<Received> Requests => [.. _received];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        receiver._server = await LoopbackServer.StartAsync(app => app.MapPost("/hooks", receiver.ReceiveAsync));
        receiver.Url = receiver._server.Url + "/hooks";
        return receiver;
    }

    async Task ReceiveAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        var number = Interlocked.Increment(ref _count);
        var status = Status(number);
        var headers = http.Request.Headers;
        _received.Enqueue(new Received(number, headers["Webhook-Id"], headers["Webhook-Event"], headers["Webhook-Signature"],
            headers["Webhook-Attempt"], http.Request.ContentType, buffer.ToArray(), status, DateTimeOffset.UtcNow));
        http.Response.StatusCode = status;
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

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
