using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Proxy;
using Sessions.ServiceDefaults.Payers;
using Yarp.ReverseProxy.Forwarder;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// Forwards a paid request (by a payment or a session) with its signed payer context and keeps the upstream answer in
/// memory, so the caller charges only for an answer it can deliver (<see cref="UpstreamAnswer"/>).
/// </summary>
public sealed partial class UpstreamForwarder(PayerContextSigner signer, IOptions<GateOptions> options, ILogger<UpstreamForwarder> logger)
{
    /// <summary>When a payer context signed now expires.</summary>
    public long NewExpiry() => signer.NewExpiry();

    /// <summary>
    /// Forwards with <paramref name="payer"/> signed as the payer context; the answer stays in memory until the caller decides.
    /// <paramref name="format"/>: the protocol of the call (MCP), which also says when an answer below 400 is a failure.
    /// </summary>
    public async Task<UpstreamAnswer> ForwardBufferedAsync(HttpContext context, Func<Task> next, PayerContext payer, string logId,
        IPaidAnswerFormat? format)
    {
        context.Request.Headers[PayerContextSigner.HeaderName] = signer.Sign(payer);
        var buffer = new BufferedResponseBody(context, options.Value.MaxBufferedResponseBytes);
        try
        {
            await next();
        }
        finally
        {
            await buffer.DisposeAsync();
        }
        var error = context.Features.Get<IForwarderErrorFeature>();
        var failed = error is not null || buffer.Overflowed || context.Response.StatusCode >= 400
            || format?.IsFailure(context.Response, buffer.Body) == true;
        if (error is not null)
            LogUpstreamError(error.Exception, logId, error.Error.ToString());
        return new UpstreamAnswer(context, buffer, failed, format);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream error for {PaymentId}: {Error}")]
    partial void LogUpstreamError(Exception? exception, string paymentId, string error);
}
