using System.Text.Json;

namespace Sessions.Payments.X402;

/// <summary>Finds which offered requirement a client's payment refers to.</summary>
public static class RequirementsMatcher
{
    /// <summary>
    /// v2: the offered requirement that <c>accepted</c> deep-equals, extra and unknown members included.
    /// JSON-semantic: member order does not matter, 1.0 equals 1, but "10000" does not equal 10000 and
    /// a member set to null differs from an absent one (as in @x402/core's deepEqual).
    /// </summary>
    public static PaymentRequirements? FindAccepted(PaymentPayload payload, IEnumerable<PaymentRequirements> offered)
    {
        var accepted = ToElement(payload.Accepted);
        return offered.FirstOrDefault(candidate => JsonElement.DeepEquals(accepted, ToElement(candidate)));
    }

    public static bool JsonEquals(PaymentRequirements left, PaymentRequirements right) =>
        JsonElement.DeepEquals(ToElement(left), ToElement(right));

    /// <summary>v1: the first offered requirement with the same scheme and network (asset/payTo are checked by verify).</summary>
    public static PaymentRequirementsV1? FindV1(PaymentPayloadV1 payload, IEnumerable<PaymentRequirementsV1> offered) =>
        offered.FirstOrDefault(candidate =>
            string.Equals(candidate.Scheme, payload.Scheme, StringComparison.Ordinal)
            && string.Equals(candidate.Network, payload.Network, StringComparison.Ordinal));

    private static JsonElement ToElement(PaymentRequirements requirements) =>
        JsonSerializer.SerializeToElement(requirements, X402JsonContext.Strict.PaymentRequirements);
}
