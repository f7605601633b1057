using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.Mpp;

namespace Sessions.PaymentGate.Mpp;

/// <summary>Configuration section <c>Gate:Mpp</c>: the <c>Payment</c> HTTP authentication scheme beside x402.</summary>
public sealed class MppOptions
{
    public const string SectionName = "Gate:Mpp";

    /// <summary>
    /// HMAC key of the stateless challenge ids (at least 32 characters). Every gate instance behind one address needs the
    /// same key; without one each process makes up its own, so a challenge only pays at the instance that issued it.
    /// </summary>
    public string? ChallengeKey { get; set; }

    /// <summary>The challenges' realm; empty = the request's Host (what mppx's server uses too).</summary>
    public string? Realm { get; set; }

    /// <summary>How long a challenge can be paid (its <c>expires</c>; mppx signs the authorization valid until then).</summary>
    public TimeSpan ChallengeLifetime { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Issues the <c>evm</c>/<c>charge</c> challenges of paid routes (PROTOCOLS.md §2, §5): the request is what mppx's
/// <c>evm.charge</c> server emits (amount, currency, recipient, methodDetails {chainId, credentialTypes ["authorization"],
/// decimals}), JCS-canonical and base64url; the id is the HMAC over the seven slots, so nothing is stored per challenge.
/// </summary>
public sealed partial class MppChallenger
{
    public const string Method = MppEvm.MethodName;
    public const string Intent = "charge";
    public const int MinimumKeyLength = 32;

    readonly byte[] _key;
    readonly MppOptions _options;
    readonly TimeProvider _time;

    public MppChallenger(IOptions<MppOptions> options, TimeProvider time, ILogger<MppChallenger> logger)
    {
        _options = options.Value;
        _time = time;
        if (_options.ChallengeKey is { Length: > 0 } key)
        {
            if (key.Length < MinimumKeyLength)
                throw new InvalidOperationException($"{MppOptions.SectionName}:ChallengeKey must be at least {MinimumKeyLength} characters.");
            // mppx keys its HMAC with the UTF-8 bytes of the secret string; the same here, so a key works in both.
            _key = Encoding.UTF8.GetBytes(key);
        }
        else
        {
            _key = RandomNumberGenerator.GetBytes(32);
            LogEphemeralKey(logger, MppOptions.SectionName);
        }
    }

    internal ReadOnlySpan<byte> Key => _key;

    public TimeProvider Time => _time;

    public string RealmOf(HttpContext context) =>
        _options.Realm is { Length: > 0 } realm ? realm : context.Request.Host.HasValue ? context.Request.Host.Value! : "localhost";

    /// <summary>The charge request for <paramref name="route"/>'s price, in the form mppx's server emits it.</summary>
    public static JsonElement RequestFor(GateRoute route)
    {
        var organization = route.Organization!;
        var asset = organization.Asset;
        var request = new
        {
            amount = route.Amount!.Value.ToString(CultureInfo.InvariantCulture),
            currency = asset.Address.ToChecksumString(),
            methodDetails = new { chainId = asset.ChainId, credentialTypes = new[] { "authorization" }, decimals = asset.Decimals },
            recipient = organization.PayTo.ToChecksumString(),
        };
        return JsonSerializer.SerializeToElement(request, JsonSerializerOptions.Web);
    }

    /// <summary>A fresh challenge for <paramref name="route"/> (new <c>expires</c>, hence a new id).</summary>
    public PaymentChallenge Create(HttpContext context, GateRoute route)
    {
        var expires = FormatTime(_time.GetUtcNow().Add(_options.ChallengeLifetime));
        return PaymentChallenge.Create(_key, RealmOf(context), Method, Intent, RequestFor(route), expires,
            description: IsPlainAscii(route.Description) ? route.Description : null);
    }

    /// <summary>RFC 3339 in UTC with milliseconds, as JavaScript's toISOString writes it.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    // Kestrel refuses non-ASCII response header values; a description that is not plain ASCII is left out of the header.
    static bool IsPlainAscii(string? text) => text is { Length: > 0 } && text.All(c => c is >= ' ' and <= '~');

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Section}:ChallengeKey is not set: MPP challenge ids use a key of this process only (a challenge pays only at the gate instance that issued it).")]
    static partial void LogEphemeralKey(ILogger logger, string section);
}
