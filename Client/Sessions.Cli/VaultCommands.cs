using System.CommandLine;
using System.Net;
using System.Text.Json;

namespace Sessions.Cli;

/// <summary>
/// <c>vault ls | cat | share | shares | unshare</c>: the vault of a session at the gate (docs/vaults.md "Through the gate"). The
/// session's stored token (<c>Payment-Session</c>) says whose vault; these routes are free. Someone the vault was shared with
/// reads it with <c>--vault</c> and <c>--access-token</c> (<c>Authorization: Bearer vat_…</c>, read-only). Documents are added by
/// the session's paid requests, e.g. <c>pay /api/vaults/{id}/documents --session ID --data '{"name":…,"content":…}'</c>.
/// </summary>
public static class VaultCommands
{
    const int PageSize = 100;

    /// <summary>Who reads: the session's token, or an access token for one vault.</summary>
    sealed record VaultAccess(HttpClient Client, string VaultId, string Header, string Value, JsonElement Vault);

    public static Command Create()
    {
        var vault = new Command("vault", "A session's vault: the documents its requests stored, readable after it ends, shareable read-only");
        var sessionOption = new Option<string?>("--session") { Description = "The stored session whose vault (default: the newest stored session at this gate)" };
        var vaultOption = new Option<string?>("--vault") { Description = "The vault id (vlt_…), with --access-token" };
        var accessTokenOption = new Option<string?>("--access-token") { Description = "Read a vault shared with you (vat_…, with --vault)" };

        var orderOption = new Option<string>("--order") { Description = "newest (default) or name", DefaultValueFactory = _ => "newest" };
        orderOption.AcceptOnlyFromAmong("newest", "name");
        var ls = new Command("ls", "The vault's documents (GET /api/vaults/{id}/documents, every page)") { sessionOption, vaultOption, accessTokenOption, orderOption };
        ls.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var access = await AccessAsync(context, parse.GetValue(sessionOption), parse.GetValue(vaultOption), parse.GetValue(accessTokenOption), "vault ls", cancellationToken);
            var documents = await DocumentsAsync(access, parse.GetRequiredValue(orderOption), cancellationToken);
            context.Print(new { vault = access.Vault, items = documents }, () =>
            {
                Output.Fields(("vault", access.VaultId), ("state", CliContext.Text(access.Vault, "state")), ("session", CliContext.Text(access.Vault, "sessionId")),
                    ("expires", CliContext.Text(access.Vault, "expiresAt")));
                Console.Out.WriteLine();
                Output.Table(["ID", "NAME", "TYPE", "SIZE", "ADDED BY", "CREATED"], documents.Select(d => (IReadOnlyList<string?>)
                    [CliContext.Text(d, "id"), CliContext.Text(d, "name"), CliContext.Text(d, "contentType"), CliContext.Text(d, "size"),
                     CliContext.Text(d, "addedBy"), CliContext.Text(d, "createdAt")]));
            });
        }));

        var documentArgument = new Argument<string>("doc") { Description = "The document's id (doc_…) or name (the newest of that name)" };
        var cat = new Command("cat", "Print a document's content exactly (GET /api/vaults/{id}/documents/{doc})") { documentArgument, sessionOption, vaultOption, accessTokenOption };
        cat.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var access = await AccessAsync(context, parse.GetValue(sessionOption), parse.GetValue(vaultOption), parse.GetValue(accessTokenOption), "vault cat", cancellationToken);
            var document = parse.GetRequiredValue(documentArgument);
            if (!document.StartsWith("doc_", StringComparison.Ordinal))
                document = CliContext.Text((await DocumentsAsync(access, "newest", cancellationToken)).FirstOrDefault(d => CliContext.Text(d, "name") == document), "id")
                    ?? throw new CliException($"vault cat: no document named '{document}' in {access.VaultId}");
            var read = await SendAsync(access, HttpMethod.Get, $"api/vaults/{access.VaultId}/documents/{Uri.EscapeDataString(document)}", "vault cat", cancellationToken);
            if (!read.TryGetProperty("content", out var content))
                throw new CliException($"vault cat: the gate's answer for {document} has no content");
            // Text as it was stored, JSON content as JSON: nothing added.
            context.Print(read, () => Console.Out.Write(content.ValueKind == JsonValueKind.String ? content.GetString() : content.GetRawText()));
        }));

        var share = new Command("share", "A read-only access token for the session's vault (POST /api/vaults/{id}/access-tokens; shown once)") { sessionOption };
        share.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var access = await AccessAsync(context, parse.GetValue(sessionOption), null, null, "vault share", cancellationToken);
            var shared = await SendAsync(access, HttpMethod.Post, $"api/vaults/{access.VaultId}/access-tokens", "vault share", cancellationToken);
            context.Print(shared, () => Output.Fields(("id", CliContext.Text(shared, "id")), ("vault", CliContext.Text(shared, "vaultId")),
                ("token", CliContext.Text(shared, "token")), ("read with", $"sessions vault ls --vault {access.VaultId} --access-token {CliContext.Text(shared, "token")}")));
        }));

        var shares = new Command("shares", "The vault's access tokens, revoked ones too (GET /api/vaults/{id}/access-tokens)") { sessionOption };
        shares.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var access = await AccessAsync(context, parse.GetValue(sessionOption), null, null, "vault shares", cancellationToken);
            var tokens = await SendAsync(access, HttpMethod.Get, $"api/vaults/{access.VaultId}/access-tokens", "vault shares", cancellationToken);
            context.Print(tokens, () => Output.Table(["ID", "CREATED", "REVOKED"], PricingCommand.Items(tokens, "items").Select(t => (IReadOnlyList<string?>)
                [CliContext.Text(t, "id"), CliContext.Text(t, "createdAt"), CliContext.Text(t, "revokedAt")])));
        }));

        var tokenIdArgument = new Argument<string>("token-id") { Description = "The access token's id (from `vault share` or `vault shares`)" };
        var unshare = new Command("unshare", "Revoke an access token (DELETE /api/vaults/{id}/access-tokens/{tokenId})") { tokenIdArgument, sessionOption };
        unshare.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var access = await AccessAsync(context, parse.GetValue(sessionOption), null, null, "vault unshare", cancellationToken);
            var tokenId = parse.GetRequiredValue(tokenIdArgument);
            using var request = Request(access, HttpMethod.Delete, $"api/vaults/{access.VaultId}/access-tokens/{Uri.EscapeDataString(tokenId)}");
            using var response = await access.Client.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.NoContent)
                throw new CliException($"vault unshare: {CliContext.Failure(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken))}");
            context.Print(new { id = tokenId, vaultId = access.VaultId, revoked = true }, () => Output.Fields(("id", tokenId), ("vault", access.VaultId), ("revoked", "yes")));
        }));

        vault.Add(ls);
        vault.Add(cat);
        vault.Add(share);
        vault.Add(shares);
        vault.Add(unshare);
        return vault;
    }

    /// <summary>The session's vault (<c>GET /api/vaults/current</c>), or the shared vault an access token reads (<c>GET /api/vaults/{id}</c>).</summary>
    static async Task<VaultAccess> AccessAsync(CliContext context, string? sessionId, string? vaultId, string? accessToken, string what, CancellationToken cancellationToken)
    {
        if (accessToken is not null)
        {
            if (vaultId is null)
                throw new CliException($"{what}: --access-token reads one vault: pass its id with --vault");
            var shared = new VaultAccess(context.PlainClient(), vaultId, "Authorization", $"Bearer {accessToken}", default);
            return shared with { Vault = await SendAsync(shared, HttpMethod.Get, $"api/vaults/{Uri.EscapeDataString(vaultId)}", what, cancellationToken) };
        }
        if (vaultId is not null)
            throw new CliException($"{what}: --vault is for a vault shared with you (with --access-token); a session's vault is found by its token (--session)");
        var state = SessionState.Load(context.StatePath);
        var token = sessionId is null ? state.AnyToken(context.Gate, context.StatePath) : state.TokenOf(sessionId, context.StatePath);
        var own = new VaultAccess(context.PlainClient(), "current", SessionCommands.TokenHeader, token, default);
        var current = await SendAsync(own, HttpMethod.Get, "api/vaults/current", what, cancellationToken);
        return own with { VaultId = CliContext.Text(current, "id") ?? throw new CliException($"{what}: the gate's answer has no vault id"), Vault = current };
    }

    /// <summary>Every page of the vault's documents (metadata, no content).</summary>
    static async Task<List<JsonElement>> DocumentsAsync(VaultAccess access, string order, CancellationToken cancellationToken)
    {
        var documents = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await SendAsync(access, HttpMethod.Get,
                $"api/vaults/{access.VaultId}/documents?order={order}&limit={PageSize}{(cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")}", "vault ls", cancellationToken);
            documents.AddRange(PricingCommand.Items(page, "items"));
            cursor = CliContext.Text(page, "nextCursor");
        }
        while (cursor is not null);
        return documents;
    }

    static async Task<JsonElement> SendAsync(VaultAccess access, HttpMethod method, string path, string what, CancellationToken cancellationToken)
    {
        using var request = Request(access, method, path);
        using var response = await access.Client.SendAsync(request, cancellationToken);
        return await CliContext.JsonOrFailAsync(response, what, cancellationToken);
    }

    static HttpRequestMessage Request(VaultAccess access, HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation(access.Header, access.Value);
        return request;
    }
}
