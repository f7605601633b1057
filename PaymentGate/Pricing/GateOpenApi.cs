using Scalar.AspNetCore;

namespace Sessions.PaymentGate.Pricing;

/// <summary>
/// Discovery (issue 18): <c>GET /openapi/v1.json</c>, the gate's public surface: its own endpoints as ASP.NET Core's generator
/// describes them, plus one operation per proxied route with its price in <c>x-payment</c> (<see cref="GateRoutesDocument"/>).
/// The Scalar API reference at <c>/scalar</c> in Development only. Both are gate endpoints, so never behind the paywall.
/// </summary>
public static class GateOpenApi
{
    public const string DocumentName = "v1";

    public static IServiceCollection AddGateOpenApi(this IServiceCollection services, bool development) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Sessions PaymentGate";
                document.Info.Description = "Paid routes answer 402 with an x402 offer (v2 in PAYMENT-REQUIRED, v1 in the body) and an MPP " +
                    "challenge (WWW-Authenticate: Payment); x-payment on an operation is its price. GET /api/pricing lists the same prices. " +
                    "Every paid or session-debited 2xx answer carries a signed receipt in Sessions-Receipt (compact JWS, EdDSA/Ed25519; " +
                    "MCP results in _meta[\"sessions/receipt\"]), verifiable with the keys at GET /.well-known/jwks.json (docs/receipts.md).";
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<GateRoutesDocument>();
            // The local facilitator's API and anything internal are not the gate's product; the dev ledger only in Development.
            options.ShouldInclude = description => description.RelativePath is not { } path
                || !(path.StartsWith("facilitator/", StringComparison.OrdinalIgnoreCase)
                    || path.StartsWith("internal/", StringComparison.OrdinalIgnoreCase)
                    || (!development && path.StartsWith("dev/", StringComparison.OrdinalIgnoreCase)));
        });

    public static WebApplication MapGateOpenApi(this WebApplication app)
    {
        app.MapOpenApi();
        if (app.Environment.IsDevelopment())
            app.MapScalarApiReference(options => options.WithTitle("Sessions PaymentGate"));
        return app;
    }
}
