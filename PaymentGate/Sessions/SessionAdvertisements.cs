using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;

namespace Sessions.PaymentGate.Sessions;

/// <summary>What a 402 carries to say its route's organisation sells sessions (README "Sessions in the 402").</summary>
/// <param name="Extensions">The x402 v2 <c>extensions</c> of the PaymentRequired: <c>{"sessions": {"info": {...}}}</c>.</param>
/// <param name="Link">The <c>Link</c> header value: <c>&lt;/api/sessions&gt;; rel="payment-session"</c>.</param>
public sealed record SessionAdvertisement(JsonElement Extensions, string Link);

/// <summary>
/// The session advertisements of the organisations that sell sessions, built once at start-up. A gate sells sessions when
/// SessionApi is configured (<c>services:sessionapi</c>, as the OpenAPI document's <c>sessions</c>); an organisation sells
/// prepaid sessions unless <c>PrepaidSessions</c> is false, and passes when it has a <c>Pass</c>. The form is an x402 v2
/// extension, which the official clients ignore unless they registered it (they echo it into their payload, which the gate
/// ignores), plus a <c>Link</c> header for clients that read no x402.
/// </summary>
public sealed class SessionAdvertisements
{
    public const string ExtensionName = "sessions";
    public const string LinkRelation = "payment-session";
    public const string OpenPath = "/api/sessions";

    readonly Dictionary<string, SessionAdvertisement> _byOrganization = new(StringComparer.Ordinal);

    public SessionAdvertisements(PricingCatalog catalog, IOptions<GateOptions> options, IConfiguration configuration)
    {
        if (!configuration.GetSection("services:sessionapi").Exists())
            return;
        foreach (var organization in catalog.Organizations)
            if (Build(organization, options.Value.Sessions) is { } advertisement)
                _byOrganization[organization.Id] = advertisement;
    }

    /// <summary>The advertisement for a 402 of <paramref name="route"/>, or null when its organisation sells no sessions.</summary>
    public SessionAdvertisement? For(GateRoute route) =>
        route.Organization is { } organization ? _byOrganization.GetValueOrDefault(organization.Id) : null;

    static SessionAdvertisement? Build(Organization organization, SessionGateOptions options)
    {
        var kinds = new JsonObject();
        if (organization.SellsPrepaid)
        {
            var (minimum, maximum) = SessionsGateApi.DepositBounds(organization, options);
            kinds["prepaid"] = new JsonObject { ["minimumDeposit"] = Atomic(minimum), ["maximumDeposit"] = Atomic(maximum) };
        }
        if (organization.PassPrice is { } price)
            kinds["pass"] = new JsonObject { ["price"] = Atomic(price), ["ttlSeconds"] = (long)organization.PassTtl.TotalSeconds };
        if (kinds.Count == 0)
            return null;
        var info = new JsonObject
        {
            ["organization"] = organization.Id,
            ["open"] = OpenPath,
            ["topUp"] = OpenPath + "/{id}/topup",
            ["close"] = OpenPath + "/{id}/close",
            ["token"] = SessionSpending.TokenHeader,
            ["kinds"] = kinds,
        };
        var extensions = new JsonObject { [ExtensionName] = new JsonObject { ["info"] = info } };
        return new SessionAdvertisement(JsonSerializer.SerializeToElement(extensions), $"<{OpenPath}>; rel=\"{LinkRelation}\"");

        static string Atomic(System.Numerics.BigInteger amount) => amount.ToString(CultureInfo.InvariantCulture);
    }
}
