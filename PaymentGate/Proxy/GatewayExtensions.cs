using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Mcp;
using Sessions.PaymentGate.Offers;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Receipts;
using Sessions.PaymentGate.Proxy;
using Sessions.PaymentGate.Sessions;
using Sessions.ServiceDefaults.Payers;
using Yarp.ReverseProxy.Configuration;

namespace Microsoft.Extensions.Hosting;

// In ServiceDefaults' namespace so that Program.cs needs no using.
public static class GatewayExtensions
{
    /// <summary>
    /// The gateway: pricing (section <c>Gate</c>, validated at start-up), YARP routes and clusters built in code from it and
    /// from service discovery, the x402 paywall with its replay guard (Redis <c>redis</c> + gatedb) and the settlement
    /// reconciler. Needs <c>AddNpgsqlDataSource("gatedb")</c> and an <see cref="Sessions.PaymentGate.Facilitator.IFacilitatorClient"/>.
    /// </summary>
    public static TBuilder AddGateway<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        // First registered = outermost: the client's X-Payer-Context is gone before ServiceDefaults' verifier sees it, and
        // disguised paths and ambiguous payments are refused before routing and pricing.
        services.Insert(0, ServiceDescriptor.Transient<IStartupFilter, GateRequestGuard>());

        services.AddOptions<GateOptions>().BindConfiguration(GateOptions.SectionName)
            .Validate(o => o.Compensations.Interval > TimeSpan.Zero && o.Compensations.MaxBackoff > TimeSpan.Zero
                && o.Compensations.InFlightWindow > TimeSpan.Zero,
                "Gate:Compensations: Interval, MaxBackoff and InFlightWindow must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton<PricingCatalog>();
        services.AddHostedService<GateStartupValidation>();
        services.AddSingleton<IProxyConfigProvider, GateProxyConfigProvider>();
        // Every route, one place: credentials meant for the gate never reach an upstream.
        services.AddReverseProxy().AddTransforms(GateCredentials.StripFromUpstreamRequests).AddServiceDiscoveryDestinationResolver();

        // Without Redis the gate still serves free routes; paid ones answer 503 (fail closed), its health Unhealthy (the log says why).
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("redis")))
            builder.AddFailFastRedisClient("redis");
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<PaymentStore>();
        // The paywall (docs: PaymentGate/README.md "Request path"): the dispatcher chooses the payment kind, the kind
        // decides, the writer answers; x402 and MPP payments share the flow (verify, claim, mandate, forward, settle).
        services.TryAddSingleton<PaymentDispatcher>();
        services.TryAddSingleton<X402Payment>();
        services.TryAddSingleton<PaymentFlow>();
        services.TryAddSingleton<UpstreamForwarder>();
        services.TryAddSingleton<PaymentAnswerWriter>();
        services.TryAddSingleton<SettlementReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<SettlementReconciler>());
        // MPP (Authorization: Payment) beside x402 on the same routes: PaymentGate/Mpp.
        services.AddMppPayments();
        // MCP routes: priced per tool from the service's GET /mcp/pricing (PaymentGate/Mcp).
        services.AddMcpGate();

        // Sessions (Payment-Session header, /api/sessions): SessionApi through service discovery (services:sessionapi:http:0).
        services.AddHttpClient(SessionApiClient.HttpClientName, client => client.BaseAddress = new Uri("http://sessionapi"));
        services.TryAddSingleton<SessionApiClient>();
        services.TryAddSingleton<SessionSpending>();
        services.TryAddSingleton<SessionAdvertisements>();
        // Session debits in Redis (hold, confirm, release), folded into SessionApi's ledger: docs/design/session-debits.md.
        services.TryAddSingleton<SessionBalances>();
        services.TryAddSingleton<SessionDebitFolder>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionDebitFolder>());
        services.TryAddSingleton<MandatedAgents>();
        services.TryAddSingleton<MandateGuard>();
        // What the gate owes back after a SessionApi outage is recorded in gatedb and retried until applied.
        services.TryAddSingleton<CompensationStore>();
        services.TryAddSingleton<CompensationRetrier>();
        services.AddHostedService(sp => sp.GetRequiredService<CompensationRetrier>());
        services.TryAddSingleton<SessionRefunds>();
        // Vaults (one per session, VaultApi): only when services:vaultapi:http:0 is configured; VaultApiClient logs the choice.
        services.AddHttpClient(VaultApiClient.HttpClientName, client => client.BaseAddress = new Uri("http://vaultapi"));
        services.TryAddSingleton<VaultApiClient>();
        services.AddHostedService<VaultStartupLog>();
        // Signed receipts (issue 19): the gate's Ed25519 keys, published at /.well-known/jwks.json.
        services.AddOptions<ReceiptOptions>().BindConfiguration(GateOptions.SectionName + ":Receipts");
        services.TryAddSingleton<GateSigningKeys>();
        services.TryAddSingleton<ReceiptIssuer>();
        services.TryAddSingleton<ReceiptStore>();
        services.AddHostedService(sp => sp.GetRequiredService<ReceiptStore>());
        // Signed offers (issue 20): terms before money, signed with the same keys.
        services.TryAddSingleton<OfferSigner>();
        // Discovery: GET /openapi/v1.json with each route's price (Pricing/GateOpenApi.cs).
        services.AddGateOpenApi(builder.Environment.IsDevelopment());
        return builder;
    }

    /// <summary><c>GET /api/pricing</c>, <c>GET /openapi/v1.json</c> and the proxy routes, each paid one behind the paywall.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        app.MapPricingApi();
        app.MapGateSessions();
        app.MapGateMandates();
        app.MapJwks();
        app.MapOffers();
        app.MapReceipts();
        app.MapGateOpenApi();
        // The standard pipeline minus session affinity: the gate is stateless (payments and sessions live in Redis),
        // so any destination can serve any request.
        var paywall = app.Services.GetRequiredService<PaymentDispatcher>();
        app.MapReverseProxy(pipeline =>
        {
            pipeline.Use((context, next) => paywall.InvokeAsync(context, next));
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        return app;
    }

    /// <summary>Builds the pricing catalog while the host starts, so a bad configuration stops the gate with its message.</summary>
    sealed class GateStartupValidation(IServiceProvider services, ILogger<GateStartupValidation> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var catalog = services.GetRequiredService<PricingCatalog>();
            logger.LogInformation("Gate pricing: {Organizations} organisation(s), {Paid} paid and {Free} free route(s).",
                catalog.Organizations.Count, catalog.Routes.Count(r => !r.IsFree), catalog.Routes.Count(r => r.IsFree));
            // A debit or charge can land until its payer context expires: believing "nothing to undo" earlier could lose money.
            var window = services.GetRequiredService<IOptions<GateOptions>>().Value.Compensations.InFlightWindow;
            var lifetime = services.GetRequiredService<IOptions<PayerContextOptions>>().Value.Lifetime;
            if (window <= lifetime)
                logger.LogWarning("Gate:Compensations:InFlightWindow ({Window}) should be longer than PayerContext:Lifetime ({Lifetime}).", window, lifetime);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
