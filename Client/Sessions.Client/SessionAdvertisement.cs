using System.Text.Json;
using Sessions.Payments;
using Sessions.Payments.X402;

namespace Sessions.Client;

/// <summary>
/// What a gate's 402 says about the sessions its route's organisation sells: the x402 v2 extension <c>sessions</c> in
/// <c>PAYMENT-REQUIRED</c> (PaymentGate README, "Sessions in the 402"). Paths are relative to the 402's origin.
/// </summary>
/// <param name="Prepaid">Null when no prepaid sessions are sold.</param>
/// <param name="Pass">Null when no passes are sold.</param>
public sealed record SessionAdvertisement(string Organization, string OpenPath, string ClosePath, PrepaidTerms? Prepaid, PassTerms? Pass)
{
    public const string ExtensionName = "sessions";

    /// <summary>The advertisement of <paramref name="response"/> (a 402), or null when it advertises none.</summary>
    public static SessionAdvertisement? Read(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(X402HeaderCodec.PaymentRequiredHeader, out var values)
            || X402HeaderCodec.Decode(values.FirstOrDefault(), X402JsonContext.Strict.PaymentRequired) is not { Succeeded: true, Value.Extensions: { } extensions }
            || extensions.ValueKind != JsonValueKind.Object || !extensions.TryGetProperty(ExtensionName, out var sessions)
            || sessions.ValueKind != JsonValueKind.Object || !sessions.TryGetProperty("info", out var info) || info.ValueKind != JsonValueKind.Object
            || Text(info, "organization") is not { } organization || Text(info, "open") is not { } open || !open.StartsWith('/')
            || !info.TryGetProperty("kinds", out var kinds) || kinds.ValueKind != JsonValueKind.Object)
            return null;
        PrepaidTerms? prepaid = kinds.TryGetProperty("prepaid", out var p) && p.ValueKind == JsonValueKind.Object
            && AtomicAmount.TryParse(Text(p, "minimumDeposit"), out var minimum) && AtomicAmount.TryParse(Text(p, "maximumDeposit"), out var maximum)
                ? new PrepaidTerms(minimum, maximum) : null;
        PassTerms? pass = kinds.TryGetProperty("pass", out var s) && s.ValueKind == JsonValueKind.Object
            && AtomicAmount.TryParse(Text(s, "price"), out var price) && s.TryGetProperty("ttlSeconds", out var ttl) && ttl.TryGetInt64(out var seconds)
                ? new PassTerms(price, TimeSpan.FromSeconds(seconds)) : null;
        var close = Text(info, "close") is { } path && path.StartsWith('/') ? path : open.TrimEnd('/') + "/{id}/close";
        return prepaid is null && pass is null ? null : new SessionAdvertisement(organization, open, close, prepaid, pass);

        static string? Text(JsonElement json, string name) =>
            json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}

/// <summary>Prepaid sessions as sold: the deposit must lie between these (atomic units).</summary>
public sealed record PrepaidTerms(AtomicAmount MinimumDeposit, AtomicAmount MaximumDeposit);

/// <summary>A pass as sold: one payment of <paramref name="Price"/> (atomic units), free requests for <paramref name="Lifetime"/>.</summary>
public sealed record PassTerms(AtomicAmount Price, TimeSpan Lifetime);
