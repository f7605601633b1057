using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

/// <summary>A webhook test class: its own SessionApi (and database) with the fast dispatcher, and a receiver to register.</summary>
public abstract class WebhookTestBase(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    protected WebhookHarness _api = null!;
    protected WebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync()
    {
        _api = await WebhookHarness.StartAsync(infrastructure);
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _receiver.DisposeAsync();
    }
}
