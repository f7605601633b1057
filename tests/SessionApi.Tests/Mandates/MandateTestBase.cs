using Sessions.Testing;
using SessionApi.Tests.Sessions;

namespace SessionApi.Tests.Mandates;

/// <summary>A mandate test class: its own SessionApi (and database), the mandate calls on it, a user and an agent wallet.</summary>
public abstract class MandateTestBase(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    protected SessionHarness _api = null!;
    protected MandateHarness _mandates = null!;
    protected readonly Wallet _user = new(), _agent = new();

    public async ValueTask InitializeAsync()
    {
        _api = await SessionHarness.StartAsync(infrastructure);
        _mandates = new MandateHarness(_api);
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();
}
