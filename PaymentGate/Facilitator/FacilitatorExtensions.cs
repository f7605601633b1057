using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Facilitator.Local;
using Sessions.Payments.X402;

namespace Microsoft.Extensions.Hosting;

// In ServiceDefaults' namespace so that Program.cs needs no using.
public static class FacilitatorExtensions
{
    /// <summary>
    /// <see cref="IFacilitatorClient"/> (over HTTP to <c>Facilitator:Url</c>; without one, the gate's local facilitator
    /// in-process) and the local facilitator's services. Needs the gatedb data source.
    /// </summary>
    public static TBuilder AddPaymentFacilitator<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<FacilitatorOptions>()
            .BindConfiguration(FacilitatorOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Url) || o.Local.Enabled,
                "Facilitator:Url is empty and Facilitator:Local:Enabled is false: there is no facilitator to verify and settle payments.")
            .Validate(o => string.IsNullOrWhiteSpace(o.Url)
                    || (Uri.TryCreate(o.Url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)),
                "Facilitator:Url must be an absolute http(s) URL such as https://x402.org/facilitator.")
            .ValidateOnStart();

        services.AddHttpClient(HttpFacilitatorClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.TryAddSingleton<HttpFacilitatorClient>();
        services.TryAddSingleton<LocalFacilitatorClient>();
        services.TryAddSingleton<IFacilitatorClient, FacilitatorClient>();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ExactEvmVerifier(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<TokenLedger>();
        services.TryAddSingleton<LocalFacilitator>();
        return builder;
    }

    /// <summary>
    /// <c>/facilitator/{verify,settle,supported}</c> when <c>Facilitator:Local:Enabled</c> (default true), and
    /// <c>/dev/faucet</c>, <c>/dev/accounts/{address}</c> in Development or when <c>Facilitator:Local:Faucet</c> is true.
    /// </summary>
    public static WebApplication MapLocalFacilitator(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<FacilitatorOptions>>().Value;
        if (!options.Local.Enabled)
            return app;
        app.MapLocalFacilitatorApi();
        if (app.Environment.IsDevelopment() || options.Local.Faucet)
            app.MapDevLedgerApi();
        return app;
    }
}
