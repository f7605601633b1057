using Sessions.ServiceDefaults.PayerContext;

namespace Sessions.PaymentGate.Proxy;

/// <summary>
/// Outermost middleware of the gate: removes any <c>X-Payer-Context</c> a client sent, before ServiceDefaults'
/// verifier (which would answer 401) and long before the proxy (which would forward it). Only the paywall
/// adds one, after a payment.
/// </summary>
internal sealed class StripPayerContextStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Request.Headers.Remove(PayerContextSigner.HeaderName);
            return nextMiddleware(context);
        });
        next(app);
    };
}
