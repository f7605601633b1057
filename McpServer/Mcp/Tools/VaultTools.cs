using System.ComponentModel;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.McpServer.Mcp.Tools;

/// <summary>
/// Documents in the vault of the caller's payment session, kept by VaultApi (VaultApi/README.md): the tools call its
/// payer routes with the forwarded payer context, so VaultApi decides access exactly as for a REST call.
/// </summary>
[McpServerToolType]
public static class VaultTools
{
    const string AddDocument = "add-document";
    const string ListDocuments = "list-documents";

    [McpServerTool(Name = AddDocument, Title = "Add a document to the session's vault", Destructive = false, Idempotent = false, OpenWorld = false)]
    [Description("Adds a document to the vault of the payer's current payment session; the vault outlives the session (read-only once it ends). Returns the document's metadata {id, vaultId, name, contentType, size, createdAt, addedBy}.")]
    [ToolPrice("$0.001")]
    public static async Task<CallToolResult> AddDocumentAsync(IPayerContextAccessor payers, Upstreams upstreams,
        [Description("Document name, at most 256 characters.")] string name,
        [Description("The content: a string (stored as text) or any JSON value such as an object (stored as JSON).")] JsonElement content,
        [Description("Optional media type, e.g. text/markdown; default text/plain for a string, application/json otherwise.")] string? contentType = null,
        CancellationToken cancellationToken = default)
    {
        var (vaultId, failure) = await FindVaultAsync(AddDocument, payers, upstreams, cancellationToken);
        if (vaultId is null) return failure!;
        // addedBy = the tool: VaultApi records which request or tool added a document.
        var answer = await upstreams.SendAsync(Upstreams.VaultApi, HttpMethod.Post, $"/api/vaults/{Uri.EscapeDataString(vaultId)}/documents",
            new { name, content, contentType, addedBy = AddDocument }, cancellationToken);
        return Answer(answer);
    }

    [McpServerTool(Name = ListDocuments, Title = "List the session vault's documents", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Lists the documents (metadata, no content) in the vault of the payer's current payment session. Returns {items, nextCursor}; pass nextCursor back as cursor for the next page.")]
    [ToolPrice(Free = true)]
    public static async Task<CallToolResult> ListDocumentsAsync(IPayerContextAccessor payers, Upstreams upstreams,
        [Description("nextCursor of the previous page (same order).")] string? cursor = null,
        [Description("Page size, 1 to 100 (default 50).")] int? limit = null,
        [Description("newest (default) or name.")] string? order = null,
        CancellationToken cancellationToken = default)
    {
        var (vaultId, failure) = await FindVaultAsync(ListDocuments, payers, upstreams, cancellationToken);
        if (vaultId is null) return failure!;
        var query = new Dictionary<string, string?>();
        if (!string.IsNullOrEmpty(cursor)) query["cursor"] = cursor;
        if (limit is not null) query["limit"] = limit.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(order)) query["order"] = order;
        var answer = await upstreams.SendAsync(Upstreams.VaultApi, HttpMethod.Get,
            QueryHelpers.AddQueryString($"/api/vaults/{Uri.EscapeDataString(vaultId)}/documents", query), null, cancellationToken);
        return Answer(answer);
    }

    /// <summary>The session's vault: the id the gate put in the payer context, else VaultApi's <c>/api/vaults/current</c>.</summary>
    static async Task<(string? VaultId, CallToolResult? Failure)> FindVaultAsync(string tool, IPayerContextAccessor payers, Upstreams upstreams,
        CancellationToken cancellationToken)
    {
        if (payers.Current is not { } payer) return (null, ToolResults.PayerRequired(tool));
        if (payer.SessionId is null) return (null, ToolResults.NoSession(tool));
        if (!string.IsNullOrEmpty(payer.VaultId)) return (payer.VaultId, null);
        var answer = await upstreams.SendAsync(Upstreams.VaultApi, HttpMethod.Get, "/api/vaults/current", null, cancellationToken);
        if (answer is { IsSuccess: true, Body: { ValueKind: JsonValueKind.Object } vault }
            && vault.TryGetProperty("id", out var id) && id.GetString() is { Length: > 0 } vaultId)
            return (vaultId, null);
        if (answer is { Status: HttpStatusCode.NotFound })
            return (null, ToolResults.Error("vault-not-found",
                "The current session has no vault yet (the gate creates it when the session opens); try again shortly."));
        return (null, Answer(answer));
    }

    static CallToolResult Answer(ServiceAnswer? answer) => answer switch
    {
        null => ToolResults.Error("vault-unavailable", "VaultApi did not answer; try again shortly."),
        { IsSuccess: true, Body: { ValueKind: not JsonValueKind.Undefined } body } => ToolResults.Ok(body),
        { Status: HttpStatusCode.BadRequest } => ToolResults.Error("invalid-argument", answer.Describe()),
        _ => ToolResults.Error(answer.Code ?? $"vault-http-{(int)answer.Status}", answer.Describe()),
    };
}
