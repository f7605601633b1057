using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Sessions.PaymentGate.Facilitator;
using Sessions.Testing;

namespace PaymentGate.Tests.Facilitator;

/// <summary>
/// The gate in memory with its facilitator client wired to the same in-memory server: with <c>Facilitator:Url</c> empty the
/// gate calls its own <c>/facilitator</c> over HTTP, which in a test host only the test server's handler can reach.
/// </summary>
public class GateFactory(IReadOnlyDictionary<string, string?> settings, string environment = "Development") : ServiceFactory<Program>(settings)
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment(environment);
        // Server is read when the client's handler is first built, i.e. after the host has started.
        builder.ConfigureTestServices(services => services.AddHttpClient(HttpFacilitatorClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => Server.CreateHandler()));
    }
}
