using Polly;

namespace Sessions.ServiceDefaults.Resilience;

/// <summary>Runs each request through the client's resilience pipeline.</summary>
/// <remarks>
/// A retried request is sent again as is: buffered content (JSON, strings, bytes) can be re-read; a
/// non-seekable stream body cannot, but only idempotent methods are retried and those rarely stream.
/// </remarks>
public sealed class HttpResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(HttpResiliencePipelineProvider.RequestKey, request);
        try
        {
            return await pipeline.ExecuteAsync(
                static (context, state) => new ValueTask<HttpResponseMessage>(state.handler.SendAttemptAsync(state.request, context.CancellationToken)),
                context,
                (handler: this, request));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    Task<HttpResponseMessage> SendAttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
