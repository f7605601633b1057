using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Facilitator;

/// <summary>
/// The standard x402 facilitator API (<c>POST /verify</c>, <c>POST /settle</c>, <c>GET /supported</c>), whichever
/// facilitator answers it: the gate's local one in development or a public one (configuration <c>Facilitator:Url</c>).
/// </summary>
public interface IFacilitatorClient
{
    /// <exception cref="FacilitatorUnavailableException">Not reachable, timed out, 5xx or an unreadable answer.</exception>
    Task<VerifyResponse> VerifyAsync(VerifyRequest request, CancellationToken cancellationToken);

    /// <summary>An answer with <c>success: false</c> is a refused settlement; an exception means the outcome is unknown.</summary>
    /// <exception cref="FacilitatorUnavailableException">Outcome unknown: the payment may or may not have been settled.</exception>
    Task<SettleResponse> SettleAsync(SettleRequest request, CancellationToken cancellationToken);

    /// <exception cref="FacilitatorUnavailableException">Not reachable, timed out, 5xx or an unreadable answer.</exception>
    Task<SupportedResponse> GetSupportedAsync(CancellationToken cancellationToken);
}

/// <summary>The facilitator could not give an answer. For settle this means "outcome unknown", never "failed".</summary>
public sealed class FacilitatorUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
