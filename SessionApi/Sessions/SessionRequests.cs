using System.Numerics;
using System.Text.RegularExpressions;
using Sessions.Payments;

namespace Sessions.SessionApi.Sessions;

// Request bodies of the internal API. Amounts are decimal strings of atomic units (JSON numbers lose precision past 2^53).
public sealed record OpenSessionRequest(string? Organization, string? Payer, string? Kind, string? Deposit, string? PaymentId, long? TtlSeconds,
    string? PriceHint);

public sealed record ResolveSessionRequest(string? Token);

/// <summary>A batch of the gate's debits from Redis, all of the payer context's payer (docs/design/session-debits.md).</summary>
public sealed record FoldDebitsRequest(IReadOnlyList<FoldDebitItem>? Debits);

/// <param name="At">When the gate confirmed it, unix milliseconds.</param>
/// <param name="SlaCredit">What the gate took off the price for the session's SLA (docs/offers-and-sla.md); absent: none.</param>
/// <param name="Void">Not a debit: the void of the debit of <paramref name="Key"/> (its amount is "0"), credited back if it was made.</param>
public sealed record FoldDebitItem(string? SessionId, string? Key, string? Amount, string? Route, long? At, string? SlaCredit = null, bool? Void = null);

public sealed record TopUpRequest(string? Amount, string? PaymentId);

public sealed record CloseSessionRequest(string? Method);

/// <summary>Field checks; each returns the field errors of a 400 validation problem (empty when valid).</summary>
public static partial class SessionRequests
{
    /// <summary>Pass lifetimes (Prudra): default 24 h, at least 60 s, at most 7 days. Prepaid sessions use the same bounds.</summary>
    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(7);
    public static readonly TimeSpan DefaultPassTtl = TimeSpan.FromHours(24);

    public static Dictionary<string, string[]> Validate(OpenSessionRequest request, TimeSpan defaultPrepaidTtl, out OpenSession? open)
    {
        var errors = new Dictionary<string, string[]>();
        open = null;
        if (string.IsNullOrWhiteSpace(request.Organization) || request.Organization.Length > 100)
            errors["organization"] = ["Required, at most 100 characters."];
        if (request.Payer is null || !AddressPattern().IsMatch(request.Payer))
            errors["payer"] = ["Required: an EVM address (0x and 40 hex digits) or a Solana address (base58, 32 bytes)."];
        if (request.Kind is not (SessionKinds.Prepaid or SessionKinds.Pass))
            errors["kind"] = ["Required: \"prepaid\" or \"pass\"."];
        if (!AtomicAmount.TryParse(request.Deposit, out var deposit) || deposit.IsZero)
            errors["deposit"] = [AmountRule];
        if (!IsKey(request.PaymentId))
            errors["paymentId"] = [KeyRule];
        BigInteger? priceHint = null;
        if (request.PriceHint is not null)
        {
            if (AtomicAmount.TryParse(request.PriceHint, out var hint) && !hint.IsZero) priceHint = hint;
            else errors["priceHint"] = [AmountRule];
        }
        var ttl = request.Kind == SessionKinds.Pass ? DefaultPassTtl : defaultPrepaidTtl;
        if (request.TtlSeconds is { } seconds)
        {
            if (seconds < MinTtl.TotalSeconds || seconds > MaxTtl.TotalSeconds)
                errors["ttlSeconds"] = [$"Between {MinTtl.TotalSeconds} and {MaxTtl.TotalSeconds} seconds (7 days)."];
            else ttl = TimeSpan.FromSeconds(seconds);
        }
        if (errors.Count == 0)
            open = new OpenSession(request.Organization!, global::Sessions.ServiceDefaults.Payers.PayerContext.NormalizeAddress(request.Payer!), request.Kind!, deposit, request.PaymentId!, ttl, priceHint);
        return errors;
    }

    public static Dictionary<string, string[]> Validate(FoldDebitsRequest request, out List<Ledger.FoldedDebit> debits)
    {
        var errors = new Dictionary<string, string[]>();
        debits = [];
        if (request.Debits is not { Count: > 0 and <= Ledger.DebitFold.MaxBatch })
        {
            errors["debits"] = [$"Required: 1 to {Ledger.DebitFold.MaxBatch} debits."];
            return errors;
        }
        for (var i = 0; i < request.Debits.Count; i++)
        {
            var item = request.Debits[i];
            if (item is null || !SessionTokens.IsSessionId(item.SessionId)) errors[$"debits[{i}].sessionId"] = ["Required: a session id."];
            else if (!IsKey(item.Key)) errors[$"debits[{i}].key"] = [KeyRule];
            // Zero is a pass's request.
            else if (!AtomicAmount.TryParse(item.Amount, out var amount)) errors[$"debits[{i}].amount"] = ["Required: a whole number of atomic units as a decimal string."];
            else if (item.Route is { Length: > 300 }) errors[$"debits[{i}].route"] = ["At most 300 characters."];
            else if (item.At is not > 0) errors[$"debits[{i}].at"] = ["Required: unix milliseconds."];
            else if (item.SlaCredit is not null && !AtomicAmount.TryParse(item.SlaCredit, out _)) errors[$"debits[{i}].slaCredit"] = ["A whole number of atomic units as a decimal string."];
            else if (item.Void == true && (!amount.IsZero || item.SlaCredit is not null)) errors[$"debits[{i}].amount"] = ["A void's amount is \"0\" (what is credited back is the debit's)."];
            else debits.Add(new Ledger.FoldedDebit(item.SessionId!, item.Key!, amount, item.Route, DateTimeOffset.FromUnixTimeMilliseconds(item.At.Value),
                item.SlaCredit is null ? BigInteger.Zero : AtomicAmount.Parse(item.SlaCredit), item.Void == true));
        }
        return errors;
    }

    public static Dictionary<string, string[]> Validate(TopUpRequest request, out AtomicAmount amount)
    {
        var errors = new Dictionary<string, string[]>();
        if (!AtomicAmount.TryParse(request.Amount, out amount) || amount.IsZero) errors["amount"] = [AmountRule];
        if (!IsKey(request.PaymentId)) errors["paymentId"] = [KeyRule];
        return errors;
    }

    public static Dictionary<string, string[]> Validate(CloseSessionRequest? request, out string method)
    {
        method = request?.Method ?? RefundMethods.PayoutOwed;
        return method is RefundMethods.Ledger or RefundMethods.PayoutOwed
            ? []
            : new() { ["method"] = ["\"ledger\" (refunded through the local facilitator) or \"payout_owed\" (default)."] };
    }

    public static Dictionary<string, string[]> Validate(ResolveSessionRequest request) =>
        SessionTokens.IsWellFormedToken(request.Token) ? [] : new() { ["token"] = ["Required: a session token, st_ and 43 base64url characters."] };

    const string AmountRule = "Required: a positive whole number of atomic units as a decimal string, e.g. \"100000\".";
    const string KeyRule = "Required: 1 to 200 printable ASCII characters.";

    static bool IsKey(string? key) => key is { Length: > 0 and <= 200 } && key.All(c => c is > ' ' and <= '~');

    [GeneratedRegex("^(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44})$")]
    private static partial Regex AddressPattern();
}
