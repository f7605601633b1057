using System.Diagnostics;
using Microsoft.Extensions.Options;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Facilitator.Local;

/// <summary>
/// The gate's own facilitator called in-process: the answers <see cref="HttpFacilitatorClient"/> gets from the gate's
/// <c>/facilitator</c>, without a loopback HTTP request and a JSON round trip each way (two per paid request). Same
/// contract: anything but an answer (Postgres down, a bug) is <see cref="FacilitatorUnavailableException"/>, which for
/// settle means "outcome unknown", as a 500 from <c>/facilitator/settle</c> would.
/// </summary>
public sealed class LocalFacilitatorClient(LocalFacilitator facilitator, IOptions<FacilitatorOptions> options, ILogger<LocalFacilitatorClient> logger)
    : IFacilitatorClient
{
    public async Task<VerifyResponse> VerifyAsync(VerifyRequest request, CancellationToken cancellationToken)
    {
        using var activity = PaymentGateTelemetry.ActivitySource.StartActivity("facilitator.verify");
        var response = await CallAsync(token => facilitator.VerifyAsync(request, token), "verify", activity, cancellationToken);
        FacilitatorSpans.TagVerify(activity, response);
        return response;
    }

    public async Task<SettleResponse> SettleAsync(SettleRequest request, CancellationToken cancellationToken)
    {
        using var activity = PaymentGateTelemetry.ActivitySource.StartActivity("facilitator.settle");
        var response = await CallAsync(token => facilitator.SettleAsync(request, token), "settle", activity, cancellationToken);
        FacilitatorSpans.TagSettle(activity, response);
        return response;
    }

    public Task<SupportedResponse> GetSupportedAsync(CancellationToken cancellationToken) => Task.FromResult(facilitator.Supported());

    async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, string operation, Activity? activity, CancellationToken cancellationToken)
    {
        activity?.SetTag("x402.facilitator", "local");
        // Bounded like an HTTP attempt: a ledger stuck on a lock or a connect must not hold the request. The wait ends at the
        // timeout even where Npgsql does not honour the token (opening a connection): "unavailable" below, for settle
        // "outcome unknown", which the reconciler resolves whatever the abandoned call does.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Local.Timeout);
        try
        {
            return await call(timeout.Token).WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;   // the caller gave up; not the facilitator's failure
        }
        catch (Exception exception)
        {
            var message = $"local facilitator {operation} failed: {exception.GetType().Name}: {exception.Message}";
            activity?.SetStatus(ActivityStatusCode.Error, message);
            activity?.SetTag("error.type", exception.GetType().FullName);
            logger.LogWarning(exception, "Facilitator unavailable: {Message}", message);
            throw new FacilitatorUnavailableException(message, exception);
        }
    }
}
