using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Facilitator.Local;
using Sessions.PaymentGate.Facilitator.Local.Svm;
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
        var development = builder.Environment.IsDevelopment();
        services.AddOptions<FacilitatorOptions>()
            .BindConfiguration(FacilitatorOptions.Section)
            .Validate(o => string.IsNullOrWhiteSpace(o.Mode) || o.LocalChosen,
                "Facilitator:Mode is 'local' (the gate's own facilitator) or empty; a remote facilitator is chosen by Facilitator:Url.")
            .Validate(o => !o.LocalChosen || string.IsNullOrWhiteSpace(o.Url),
                "Facilitator:Mode=local and Facilitator:Url are both set: choose the local facilitator or the remote one.")
            .Validate(o => development || o.LocalChosen || !string.IsNullOrWhiteSpace(o.Url),
                "Outside Development the facilitator is an explicit choice: set Facilitator:Url to a remote facilitator (e.g. " +
                "https://x402.org/facilitator), or Facilitator:Mode=local for the gate's own simulated chain in gatedb (test money only).")
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
        services.TryAddSingleton<SvmLedger>();
        services.TryAddSingleton<SimulatedSolanaChain>();
        services.TryAddSingleton<LocalSvmFacilitator>();
        services.TryAddSingleton<LocalFacilitator>();
        services.TryAddSingleton<LedgerCreditFolder>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerCreditFolder>());
        return builder;
    }

    /// <summary>
    /// The simulated chain's HTTP endpoints, <c>/facilitator/{verify,settle,supported}</c>, <c>/dev/faucet</c>,
    /// <c>/dev/accounts/{address}</c> and the Solana JSON-RPC subset <c>/dev/solana-rpc</c>, when <c>Facilitator:Local:Enabled</c> (default true) and in Development or with
    /// <c>Facilitator:Local:Faucet</c>. Elsewhere none is mapped: the gate uses its local facilitator in-process.
    /// </summary>
    public static WebApplication MapLocalFacilitator(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<FacilitatorOptions>>().Value;
        if (!options.Local.Enabled || !(app.Environment.IsDevelopment() || options.Local.Faucet))
            return app;
        app.MapLocalFacilitatorApi();
        app.MapDevLedgerApi();
        app.MapSolanaRpcApi();
        return app;
    }
}
