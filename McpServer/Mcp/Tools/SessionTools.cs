using System.ComponentModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.McpServer.Mcp.Tools;

/// <summary>The caller's payment session and agent mandate, as SessionApi knows them (SessionApi/README.md).</summary>
[McpServerToolType]
public static class SessionTools
{
    const string SessionStatus = "session-status";

    // What an agent needs to know about its mandate; the rest (signatures, nonce, metadata) stays in SessionApi.
    static readonly string[] MandateFields =
        ["id", "state", "isActive", "expiresAt", "maxPerTransaction", "remainingToday", "remainingThisWeek", "remainingThisMonth"];

    [McpServerTool(Name = SessionStatus, Title = "Session status", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("The payer's current payment session: {session: {id, kind, state, balance (live, as the gate has it), deposit, spent, requestCount, expiresAt, ...}, mandate: {state, expiresAt, maxPerTransaction, remainingToday, remainingThisWeek, remainingThisMonth} or null}. Amounts are atomic units of USDC (6 decimals) as strings.")]
    [ToolPrice(Free = true)]
    public static async Task<CallToolResult> SessionStatusAsync(IPayerContextAccessor payers, Upstreams upstreams,
        CancellationToken cancellationToken = default)
    {
        if (payers.Current is not { } payer) return ToolResults.PayerRequired(SessionStatus);
        if (payer.SessionId is null) return ToolResults.NoSession(SessionStatus);

        var session = await upstreams.SendAsync(Upstreams.SessionApi, HttpMethod.Get,
            $"/api/sessions/{Uri.EscapeDataString(payer.SessionId)}", null, cancellationToken);
        if (session is null) return Unavailable();
        if (session.Status == HttpStatusCode.NotFound)
            return ToolResults.Error("session-not-found", $"SessionApi knows no session '{payer.SessionId}' of this payer.");
        if (!session.IsSuccess || session.Body is not { ValueKind: JsonValueKind.Object } sessionJson)
            return ToolResults.Error(session.Code ?? $"session-http-{(int)session.Status}", session.Describe());

        // The payer is the agent: its newest mandate, whatever its state (a revoked one still restricts the agent).
        var mandates = await upstreams.SendAsync(Upstreams.SessionApi, HttpMethod.Get,
            $"/api/mandates?agent={Uri.EscapeDataString(payer.Payer)}&limit=1", null, cancellationToken);
        if (mandates is null) return Unavailable();
        if (!mandates.IsSuccess) return ToolResults.Error(mandates.Code ?? $"mandate-http-{(int)mandates.Status}", mandates.Describe());

        JsonObject? mandate = null;
        if (mandates.Body is { ValueKind: JsonValueKind.Object } list && list.TryGetProperty("items", out var items)
            && items.ValueKind == JsonValueKind.Array && items.GetArrayLength() > 0)
        {
            mandate = [];
            foreach (var field in MandateFields)
                mandate[field] = items[0].TryGetProperty(field, out var value) ? JsonNode.Parse(value.GetRawText()) : null;
        }
        var reported = JsonNode.Parse(sessionJson.GetRawText())!.AsObject();
        // The gate's live balance when it forwarded one: SessionApi's ledger (spent, requestCount) trails its debits by the fold.
        if (payer.SessionBalance is { } live)
            reported["balance"] = live;
        return ToolResults.Ok(new JsonObject { ["session"] = reported, ["mandate"] = mandate });
    }

    static CallToolResult Unavailable() => ToolResults.Error("sessions-unavailable", "SessionApi did not answer; try again shortly.");
}
