using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.PaymentGate.Offers;
using Sessions.Payments.Receipts;

namespace Sessions.PaymentGate.Sessions;

public static partial class SessionsGateApi
{
    /// <summary>
    /// The session as SessionApi has it plus, for a session on offer terms, <c>terms</c> (the signed offer and its JWS) and
    /// <c>sla</c> (what the gate measured, credits granted): issue 20's status for the agent. The figures are the gate's in Redis;
    /// when it cannot be read the session is answered without them (logged) rather than not at all.
    /// </summary>
    static async Task<JsonElement> WithTermsAsync(JsonElement session, string id, SessionBalances balances, ILoggerFactory logs)
    {
        (string? Jws, SessionSla? Sla) terms;
        try
        {
            terms = await balances.TermsAsync(id);
        }
        catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
        {
            logs.CreateLogger(typeof(SessionsGateApi)).LogWarning(exception, "Session {SessionId}: terms and SLA figures unreadable", id);
            return session;
        }
        if (terms.Jws is null)
            return session;
        var json = JsonNode.Parse(session.GetRawText())!.AsObject();
        var offer = JsonNode.Parse(Jws.PayloadOf(terms.Jws))!;
        json["terms"] = new JsonObject { ["offer"] = offer, ["jws"] = terms.Jws };
        var sla = terms.Sla!;
        json["sla"] = new JsonObject
        {
            ["served"] = sla.Served,
            ["failed"] = sla.Failed,
            ["overLatencyBound"] = sla.Slow,
            ["availabilityBasisPoints"] = sla.AvailabilityBasisPoints,
            ["latencyP50Ms"] = sla.LatencyP50Ms,
            ["latencyP95Ms"] = sla.LatencyP95Ms,
            ["latencyMaxMs"] = sla.LatencyMaxMs,
            ["credits"] = sla.Credits,
            ["availabilityCredits"] = sla.AvailabilityCredits,
            ["credited"] = sla.Credited.ToString(CultureInfo.InvariantCulture),
            ["failedNotCharged"] = sla.FailedNotCharged.ToString(CultureInfo.InvariantCulture),
        };
        return JsonSerializer.SerializeToElement(json);
    }
}
