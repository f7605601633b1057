using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.VaultApi.Vaults;

/// <summary>
/// The vault API (docs/vaults.md has the contract). <c>/internal/vaults</c> is for the gate (and the vault provisioner) only.
/// <c>/api/vaults</c> serves the payer of the vault's session in its organisation; document reads also accept a vault
/// access token instead (<c>Authorization: Bearer vat_…</c> or <c>Vault-Access-Token</c>).
/// </summary>
public static class VaultsApi
{
    public const string AccessTokenHeader = "Vault-Access-Token";

    public static IEndpointRouteBuilder MapVaultsApi(this IEndpointRouteBuilder app)
    {
        var gate = app.MapGroup("/internal/vaults").RequirePayer();
        gate.MapPut("/{sessionId}", EnsureAsync);
        gate.MapPost("/{sessionId}/seal", SealAsync);

        var payer = app.MapGroup("/api/vaults").RequirePayer();
        payer.MapGet("/current", CurrentAsync);
        payer.MapPost("/{id}/documents", AddDocumentAsync);
        payer.MapPost("/{id}/access-tokens", CreateTokenAsync);
        payer.MapGet("/{id}/access-tokens", ListTokensAsync);
        payer.MapDelete("/{id}/access-tokens/{tokenId}", RevokeTokenAsync);

        // Payer or access token.
        var readers = app.MapGroup("/api/vaults");
        readers.MapGet("/{id}", GetAsync);
        readers.MapGet("/{id}/documents", ListDocumentsAsync);
        readers.MapGet("/{id}/documents/{docId}", GetDocumentAsync);
        return app;
    }

    public sealed record VaultResponse(string Id, string SessionId, string Organization, string Payer, string State, DateTimeOffset CreatedAt,
        DateTimeOffset ExpiresAt, DateTimeOffset? SealedAt, DateTimeOffset RetentionUntil)
    {
        public static VaultResponse From(Vault v) => new(v.Id, v.SessionId, v.Organization, v.Payer, v.State, v.CreatedAt, v.ExpiresAt, v.SealedAt, v.RetentionUntil);
    }

    /// <summary><c>content</c> only on a single document: parsed JSON for JSON content types, else a string.</summary>
    public sealed record DocumentResponse(string Id, string VaultId, string Name, string ContentType, int Size, DateTimeOffset CreatedAt,
        string? AddedBy, JsonElement? Content)
    {
        public static DocumentResponse From(VaultDocument d) => new(d.Id, d.VaultId, d.Name, d.ContentType, d.Size, d.CreatedAt, d.AddedBy,
            d.Content is null ? null : VaultRequests.IsJson(d.ContentType) ? JsonDocument.Parse(d.Content).RootElement.Clone()
                : JsonSerializer.SerializeToElement(d.Content));
    }

    public sealed record DocumentList(IReadOnlyList<DocumentResponse> Items, string? NextCursor);

    public sealed record TokenResponse(string Id, string VaultId, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? Token = null)
    {
        public static TokenResponse From(VaultAccessToken t, string? secret = null) => new(t.Id, t.VaultId, t.CreatedAt, t.RevokedAt, secret);
    }

    public sealed record TokenList(IReadOnlyList<TokenResponse> Items);

    static async Task<Results<Created<VaultResponse>, Ok<VaultResponse>, ValidationProblem, ProblemHttpResult>> EnsureAsync(
        string sessionId, EnsureVaultRequest request, HttpContext http, VaultStore store, CancellationToken cancellationToken)
    {
        var errors = VaultRequests.Validate(request);
        if (!VaultIds.IsSessionId(sessionId)) errors["sessionId"] = ["A SessionApi session id (ses_ + 32 hex) is required."];
        if (errors.Count > 0) return Problems.Invalid(errors);
        var context = http.GetPayerContext()!;
        var payer = PayerContext.NormalizeAddress(request.Payer!);
        if (payer != context.Payer || request.Organization != context.Organization) return VaultProblems.PayerMismatch();
        var (vault, created) = await store.EnsureAsync(sessionId, request.Organization!, payer, request.ExpiresAt!.Value, cancellationToken);
        if (vault.Payer != payer || vault.Organization != request.Organization) return VaultProblems.SessionConflict(sessionId);
        return created ? TypedResults.Created($"/api/vaults/{vault.Id}", VaultResponse.From(vault)) : TypedResults.Ok(VaultResponse.From(vault));
    }

    static async Task<Results<Ok<VaultResponse>, ProblemHttpResult>> SealAsync(
        string sessionId, HttpContext http, VaultStore store, CancellationToken cancellationToken)
    {
        var vault = VaultIds.IsSessionId(sessionId) ? await store.GetBySessionAsync(sessionId, cancellationToken) : null;
        if (vault is null || !Owns(http, vault)) return VaultProblems.NotFound();
        return TypedResults.Ok(VaultResponse.From((await store.SealAsync(sessionId, cancellationToken))!));
    }

    static async Task<Results<Ok<VaultResponse>, ProblemHttpResult>> CurrentAsync(HttpContext http, VaultStore store, CancellationToken cancellationToken)
    {
        var sessionId = http.GetPayerContext()!.SessionId;
        var vault = sessionId is null ? null : await store.GetBySessionAsync(sessionId, cancellationToken);
        return vault is not null && Owns(http, vault) ? TypedResults.Ok(VaultResponse.From(vault)) : VaultProblems.NotFound();
    }

    static async Task<Results<Ok<VaultResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext http, VaultStore store, CancellationToken cancellationToken)
    {
        var (vault, problem) = await ReadableAsync(id, http, store, cancellationToken);
        return vault is null ? problem! : TypedResults.Ok(VaultResponse.From(vault));
    }

    static async Task<Results<Created<DocumentResponse>, ValidationProblem, ProblemHttpResult>> AddDocumentAsync(string id, AddDocumentRequest request,
        HttpContext http, VaultStore store, IOptions<VaultApiOptions> options, CancellationToken cancellationToken)
    {
        var vault = await OwnedAsync(id, http, store, cancellationToken);
        if (vault is null) return VaultProblems.NotFound();
        var errors = VaultRequests.Validate(request, out var content, out var contentType, out var size);
        if (errors.Count > 0) return Problems.Invalid(errors);
        if (size > options.Value.MaxDocumentBytes) return VaultProblems.TooLarge(size, options.Value.MaxDocumentBytes);
        var addedBy = string.IsNullOrWhiteSpace(request.AddedBy) ? http.GetPayerContext()!.RequestId : request.AddedBy.Trim();
        var result = await store.AddDocumentAsync(vault.Id, request.Name!.Trim(), contentType, content, size, addedBy, cancellationToken);
        return result.Status switch
        {
            AddStatus.Added => TypedResults.Created($"/api/vaults/{vault.Id}/documents/{result.Document!.Id}", DocumentResponse.From(result.Document)),
            AddStatus.ReadOnly => VaultProblems.ReadOnly(result.Vault!),
            _ => VaultProblems.NotFound(),
        };
    }

    static async Task<Results<Ok<DocumentList>, ValidationProblem, ProblemHttpResult>> ListDocumentsAsync(string id, string? cursor, int? limit,
        string? order, HttpContext http, VaultStore store, CancellationToken cancellationToken)
    {
        var (vault, problem) = await ReadableAsync(id, http, store, cancellationToken);
        if (vault is null) return problem!;
        order ??= DocumentCursor.Newest;
        var errors = new Dictionary<string, string[]>();
        if (order is not (DocumentCursor.Newest or DocumentCursor.ByName)) errors["order"] = ["newest or name."];
        else if (!DocumentCursor.TryDecode(cursor, order, out _)) errors["cursor"] = ["Not a cursor of this listing (order)."];
        if (limit is < 1 or > VaultRequests.MaxListLimit) errors["limit"] = [$"1 to {VaultRequests.MaxListLimit}."];
        if (errors.Count > 0) return Problems.Invalid(errors);
        DocumentCursor.TryDecode(cursor, order, out var position);
        var page = await store.ListDocumentsAsync(vault.Id, position, limit ?? 50, cancellationToken);
        return TypedResults.Ok(new DocumentList([.. page.Items.Select(DocumentResponse.From)], page.NextCursor));
    }

    static async Task<Results<Ok<DocumentResponse>, ProblemHttpResult>> GetDocumentAsync(string id, string docId, HttpContext http, VaultStore store,
        CancellationToken cancellationToken)
    {
        var (vault, problem) = await ReadableAsync(id, http, store, cancellationToken);
        if (vault is null) return problem!;
        var document = VaultIds.IsDocumentId(docId) ? await store.GetDocumentAsync(vault.Id, docId, cancellationToken) : null;
        return document is null ? VaultProblems.DocumentNotFound() : TypedResults.Ok(DocumentResponse.From(document));
    }

    // Sharing is allowed in every state: reading a vault after its session is the point of a token.
    static async Task<Results<Created<TokenResponse>, ProblemHttpResult>> CreateTokenAsync(string id, HttpContext http, VaultStore store,
        CancellationToken cancellationToken)
    {
        var vault = await OwnedAsync(id, http, store, cancellationToken);
        if (vault is null) return VaultProblems.NotFound();
        var (token, secret) = await store.CreateTokenAsync(vault.Id, cancellationToken);
        return TypedResults.Created($"/api/vaults/{vault.Id}/access-tokens/{token.Id}", TokenResponse.From(token, secret));
    }

    static async Task<Results<Ok<TokenList>, ProblemHttpResult>> ListTokensAsync(string id, HttpContext http, VaultStore store,
        CancellationToken cancellationToken)
    {
        var vault = await OwnedAsync(id, http, store, cancellationToken);
        if (vault is null) return VaultProblems.NotFound();
        return TypedResults.Ok(new TokenList([.. (await store.ListTokensAsync(vault.Id, cancellationToken)).Select(t => TokenResponse.From(t))]));
    }

    static async Task<Results<NoContent, ProblemHttpResult>> RevokeTokenAsync(string id, string tokenId, HttpContext http, VaultStore store,
        CancellationToken cancellationToken)
    {
        var vault = await OwnedAsync(id, http, store, cancellationToken);
        if (vault is null) return VaultProblems.NotFound();
        return VaultIds.IsTokenId(tokenId) && await store.RevokeTokenAsync(vault.Id, tokenId, cancellationToken)
            ? TypedResults.NoContent() : VaultProblems.TokenNotFound();
    }

    static bool Owns(HttpContext http, Vault vault) =>
        http.GetPayerContext() is { } payer && payer.Payer == vault.Payer && payer.Organization == vault.Organization;

    static async Task<Vault?> OwnedAsync(string id, HttpContext http, VaultStore store, CancellationToken cancellationToken)
    {
        var vault = VaultIds.IsVaultId(id) ? await store.GetAsync(id, cancellationToken) : null;
        return vault is not null && Owns(http, vault) ? vault : null;
    }

    /// <summary>The payer's own vault, or the one vault a valid access token opens; 401 without either credential, else 404.</summary>
    static async Task<(Vault? Vault, ProblemHttpResult? Problem)> ReadableAsync(string id, HttpContext http, VaultStore store,
        CancellationToken cancellationToken)
    {
        if (http.GetPayerContext() is not null) return (await OwnedAsync(id, http, store, cancellationToken), VaultProblems.NotFound());
        var token = AccessToken(http.Request);
        if (token is null) return (null, VaultProblems.Unauthorized());
        var vaultId = await store.VaultOfTokenAsync(token, cancellationToken);
        if (vaultId is null) return (null, VaultProblems.Unauthorized());
        return vaultId == id ? (await store.GetAsync(id, cancellationToken), VaultProblems.NotFound()) : (null, VaultProblems.NotFound());
    }

    static string? AccessToken(HttpRequest request)
    {
        var header = request.Headers[AccessTokenHeader].ToString();
        if (header.Length > 0) return header.Trim();
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
    }
}
