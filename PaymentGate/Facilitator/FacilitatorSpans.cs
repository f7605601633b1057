using System.Diagnostics;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Facilitator;

/// <summary>The tags of the <c>facilitator.verify</c> / <c>facilitator.settle</c> spans, whichever client answered.</summary>
static class FacilitatorSpans
{
    public static void TagVerify(Activity? activity, VerifyResponse response)
    {
        activity?.SetTag("x402.verify.valid", response.IsValid);
        if (!response.IsValid)
            activity?.SetTag("x402.verify.invalid_reason", response.InvalidReason);
    }

    public static void TagSettle(Activity? activity, SettleResponse response)
    {
        activity?.SetTag("x402.settle.success", response.Success);
        activity?.SetTag("x402.network", response.Network);
        if (response.Success)
            activity?.SetTag("x402.transaction", response.Transaction);
        else
            activity?.SetTag("x402.settle.error_reason", response.ErrorReason);
    }
}
