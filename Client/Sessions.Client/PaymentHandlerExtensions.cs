using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sessions.Client;

public static class PaymentHandlerExtensions
{
    /// <summary>
    /// Adds a <see cref="PaymentHandler"/> to this HttpClient. Options are named after the client; the spend accounting
    /// (<see cref="SpendLedger"/>) and the opened <see cref="PaymentSessions"/> are keyed singletons under the client's name: they
    /// outlive the factory's handler rotation; disposing the service provider closes the sessions.
    /// </summary>
    public static IHttpClientBuilder AddPaymentHandler(this IHttpClientBuilder builder, Action<PaymentClientOptions> configure)
    {
        var name = builder.Name;
        builder.Services.Configure(name, configure);
        builder.Services.AddKeyedSingleton(name, (services, _) =>
        {
            var options = services.GetRequiredService<IOptionsMonitor<PaymentClientOptions>>().Get(name);
            return new SpendLedger(options.SpendPolicy, options.TimeProvider);
        });
        builder.Services.AddKeyedSingleton(name, (_, _) => new PaymentSessions());
        return builder.AddHttpMessageHandler(services => new PaymentHandler(
            services.GetRequiredService<IOptionsMonitor<PaymentClientOptions>>().Get(name), services.GetRequiredKeyedService<SpendLedger>(name),
            services.GetRequiredKeyedService<PaymentSessions>(name)));
    }
}
