using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// The CLI's mandate and vault commands as a process against the running stack, all through the gate: an owner mandates an
/// agent, a payment above the approval threshold is held until the owner approves it (then paid) or denies it (then
/// refused), a revoked mandate stops the agent; a session's vault lists the documents its paid requests wrote, <c>cat</c>
/// prints them exactly, and a shared access token reads them until it is revoked.
/// </summary>
public partial class CliTests
{
    const long DocumentPrice = 1_000;   // POST /api/vaults/{id}/documents: $0.001 in PaymentGate/appsettings.json

    [Fact]
    public async Task An_owner_mandates_an_agent_approves_and_denies_its_held_payments_and_revokes_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var owner = Wallet.Create();
        var agent = await stack.FundedWalletAsync(Funding, ct);
        string[] asOwner = ["--gate", stack.GateUrl, "--key", owner.PrivateKey];
        string[] asAgent = ["--gate", stack.GateUrl, "--key", agent.PrivateKey];

        // A PUT costs more than the approval threshold (one GET price): it waits for the owner.
        var created = await JsonAsync(ct, [.. asOwner, "mandate", "create", "--agent-key", agent.PrivateKey, "--max-per-transaction", Atomic(2 * PutPrice),
            "--approval-above", Atomic(GetPrice), "--name", "cli-agent"]);
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("man_", id);
        Assert.Equal(("active", owner.AddressLower, agent.AddressLower, Atomic(2 * PutPrice), Atomic(GetPrice), "cli-agent"),
            (created.GetProperty("state").GetString(), created.GetProperty("user").GetString()!.ToLowerInvariant(),
             created.GetProperty("agent").GetString()!.ToLowerInvariant(), created.GetProperty("maxPerTransaction").GetString(),
             created.GetProperty("requireApprovalAbove").GetString(), created.GetProperty("metadata").GetProperty("agentName").GetString()));

        var listed = Assert.Single((await JsonAsync(ct, [.. asOwner, "mandate", "list"])).GetProperty("items").EnumerateArray());
        Assert.Equal((id, "active"), (listed.GetProperty("id").GetString(), listed.GetProperty("state").GetString()));
        var table = await RunAsync(ct, [.. asOwner, "mandate", "list"]);
        Assert.True(table.ExitCode == 0, table.Error);
        Assert.StartsWith("ID", table.Output);
        Assert.Contains(id, table.Output);

        // Held: exit 1 with the gate's problem on one line, nothing settled.
        var held = await RunAsync(ct, [.. asAgent, "pay", "/api/content/cli-mandate/a", "--method", "PUT", "--data", "approved"]);
        Assert.Equal((1, ""), (held.ExitCode, held.Output));
        Assert.Matches(@"^error: PUT [^\n]+: 409 approval-required[^\n]*\n$", held.Error);
        Assert.Equal(Atomic(Funding), (await stack.AccountAsync(agent.Address, ct)).Balance);

        // Approved by the owner, the agent's retry naming the approval is paid.
        var approvalId = await PendingApprovalAsync(ct, asOwner, id, PutPrice);
        var approved = await JsonAsync(ct, [.. asOwner, "mandate", "approve", approvalId]);
        Assert.Equal((approvalId, "approved"), (approved.GetProperty("id").GetString(), approved.GetProperty("state").GetString()));
        var paid = await JsonAsync(ct, [.. asAgent, "pay", "/api/content/cli-mandate/a", "--method", "PUT", "--data", "approved", "--approval", approvalId]);
        Assert.Equal((200, Atomic(PutPrice)), (paid.GetProperty("status").GetInt32(), paid.GetProperty("payment").GetProperty("amount").GetString()));
        Assert.Equal(Atomic(Funding - PutPrice), (await stack.AccountAsync(agent.Address, ct)).Balance);
        var used = Assert.Single((await JsonAsync(ct, [.. asOwner, "mandate", "approvals", id])).GetProperty("items").EnumerateArray());
        Assert.Equal((approvalId, "used"), (used.GetProperty("id").GetString(), used.GetProperty("state").GetString()));

        // Denied: the retry is refused and nothing more is paid.
        var heldAgain = await RunAsync(ct, [.. asAgent, "pay", "/api/content/cli-mandate/b", "--method", "PUT", "--data", "denied"]);
        Assert.Equal(1, heldAgain.ExitCode);
        var deniedId = await PendingApprovalAsync(ct, asOwner, id, PutPrice);
        var denied = await JsonAsync(ct, [.. asOwner, "mandate", "deny", deniedId]);
        Assert.Equal((deniedId, "denied"), (denied.GetProperty("id").GetString(), denied.GetProperty("state").GetString()));
        var refused = await RunAsync(ct, [.. asAgent, "pay", "/api/content/cli-mandate/b", "--method", "PUT", "--data", "denied", "--approval", deniedId]);
        Assert.Equal((1, ""), (refused.ExitCode, refused.Output));
        Assert.Matches(@"^error: PUT [^\n]+: 403 approval-denied[^\n]*\n$", refused.Error);
        Assert.Equal(Atomic(Funding - PutPrice), (await stack.AccountAsync(agent.Address, ct)).Balance);

        // Revoked: the mandate says so, and the agent may pay nothing, not even below the threshold.
        var revoked = await JsonAsync(ct, [.. asOwner, "mandate", "revoke", id]);
        Assert.Equal((id, "revoked"), (revoked.GetProperty("id").GetString(), revoked.GetProperty("state").GetString()));
        Assert.Equal("revoked", Assert.Single((await JsonAsync(ct, [.. asOwner, "mandate", "list"])).GetProperty("items").EnumerateArray()).GetProperty("state").GetString());
        var afterRevoke = await RunAsync(ct, [.. asAgent, "pay", "/api/content/cli-mandate/a"]);
        Assert.Equal((1, ""), (afterRevoke.ExitCode, afterRevoke.Output));
        Assert.Matches(@"^error: GET [^\n]+: 403 mandate-revoked[^\n]*\n$", afterRevoke.Error);
        Assert.Equal(Atomic(Funding - PutPrice), (await stack.AccountAsync(agent.Address, ct)).Balance);

        // Another wallet's signature reads nothing of this owner's.
        var stranger = await RunAsync(ct, "--gate", stack.GateUrl, "--key", Wallet.Create().PrivateKey, "mandate", "approvals", id);
        Assert.Equal((1, ""), (stranger.ExitCode, stranger.Output));
        Assert.Matches(@"^error: mandate approvals: 40[134] [^\n]+\n$", stranger.Error);
    }

    [Fact]
    public async Task A_sessions_vault_lists_its_documents_cat_prints_them_exactly_and_a_share_reads_until_unshared()
    {
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(Funding, ct);
        var home = Directory.CreateTempSubdirectory("sessions-cli-");
        try
        {
            string[] wallet = ["--gate", stack.GateUrl, "--key", payer.PrivateKey, "--state", Path.Combine(home.FullName, "sessions.json")];
            var opened = (await JsonAsync(ct, [.. wallet, "session", "open", "--deposit", Atomic(20 * DocumentPrice)])).GetProperty("session");
            var (sessionId, vaultId) = (opened.GetProperty("id").GetString()!, opened.GetProperty("vaultId").GetString()!);

            var empty = await JsonAsync(ct, [.. wallet, "vault", "ls"]);
            Assert.Equal((vaultId, sessionId, "active", 0),
                (empty.GetProperty("vault").GetProperty("id").GetString(), empty.GetProperty("vault").GetProperty("sessionId").GetString(),
                 empty.GetProperty("vault").GetProperty("state").GetString(), empty.GetProperty("items").GetArrayLength()));

            // Two documents written through the gate by the session's paid requests.
            const string text = "line one\nline two, ünïcode";
            var wrote = await JsonAsync(ct, [.. wallet, "pay", $"/api/vaults/{vaultId}/documents", "--session", sessionId,
                "--data", JsonSerializer.Serialize(new { name = "notes", content = text })]);
            Assert.Equal((201, Atomic(19 * DocumentPrice)), (wrote.GetProperty("status").GetInt32(), wrote.GetProperty("session").GetProperty("balance").GetString()));
            await JsonAsync(ct, [.. wallet, "pay", $"/api/vaults/{vaultId}/documents", "--session", sessionId, "--data", """{"name":"data","content":{"rows":3}}"""]);

            var listed = await JsonAsync(ct, [.. wallet, "vault", "ls", "--session", sessionId]);
            Assert.Equal(["data", "notes"], listed.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
            var notesId = listed.GetProperty("items")[1].GetProperty("id").GetString()!;
            var table = await RunAsync(ct, [.. wallet, "vault", "ls", "--order", "name"]);
            Assert.True(table.ExitCode == 0, table.Error);
            Assert.Matches($@"^vault    {vaultId}\n(.+\n){{3}}\nID +NAME +TYPE +SIZE +ADDED BY +CREATED\n{listed.GetProperty("items")[0].GetProperty("id").GetString()} +data .+\n{notesId} +notes .+\n$",
                table.Output);

            // cat: the exact content, by name or id; JSON content as JSON; --json the document as the gate answers it.
            Assert.Equal(new CliRun(0, text, ""), await RunAsync(ct, [.. wallet, "vault", "cat", "notes"]));
            Assert.Equal(new CliRun(0, text, ""), await RunAsync(ct, [.. wallet, "vault", "cat", notesId]));
            var data = await RunAsync(ct, [.. wallet, "vault", "cat", "data"]);
            Assert.True(data.ExitCode == 0, data.Error);
            Assert.Equal(3, JsonDocument.Parse(data.Output).RootElement.GetProperty("rows").GetInt32());
            var document = await JsonAsync(ct, [.. wallet, "vault", "cat", "notes"]);
            Assert.Equal((notesId, text), (document.GetProperty("id").GetString(), document.GetProperty("content").GetString()));

            // Shared: someone without a key or session reads it with the token, until it is revoked.
            var share = await JsonAsync(ct, [.. wallet, "vault", "share"]);
            var (tokenId, token) = (share.GetProperty("id").GetString()!, share.GetProperty("token").GetString()!);
            Assert.StartsWith("vat_", token);
            string[] reader = ["--gate", stack.GateUrl, "--state", Path.Combine(home.FullName, "nothing.json")];
            Assert.Equal(new CliRun(0, text, ""), await RunAsync(ct, [.. reader, "vault", "cat", "notes", "--vault", vaultId, "--access-token", token]));
            var listedShare = Assert.Single((await JsonAsync(ct, [.. wallet, "vault", "shares"])).GetProperty("items").EnumerateArray());
            Assert.Equal((tokenId, JsonValueKind.Null), (listedShare.GetProperty("id").GetString(), listedShare.GetProperty("revokedAt").ValueKind));

            var unshared = await JsonAsync(ct, [.. wallet, "vault", "unshare", tokenId]);
            Assert.True(unshared.GetProperty("revoked").GetBoolean());
            var denied = await RunAsync(ct, [.. reader, "vault", "cat", "notes", "--vault", vaultId, "--access-token", token]);
            Assert.Equal((1, ""), (denied.ExitCode, denied.Output));
            Assert.Matches(@"^error: vault cat: 40[14] [^\n]+\n$", denied.Error);
            Assert.NotEqual(JsonValueKind.Null, Assert.Single((await JsonAsync(ct, [.. wallet, "vault", "shares"])).GetProperty("items").EnumerateArray())
                .GetProperty("revokedAt").ValueKind);
            // The owner still reads it.
            Assert.Equal(new CliRun(0, text, ""), await RunAsync(ct, [.. wallet, "vault", "cat", "notes"]));
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    /// <summary>The one pending approval of the mandate, of <paramref name="amount"/>, as the owner lists them.</summary>
    static async Task<string> PendingApprovalAsync(CancellationToken ct, string[] asOwner, string mandateId, long amount)
    {
        var approvals = await JsonAsync(ct, [.. asOwner, "mandate", "approvals", mandateId]);
        var pending = Assert.Single(approvals.GetProperty("items").EnumerateArray(), a => a.GetProperty("state").GetString() == "pending");
        Assert.Equal(Atomic(amount), pending.GetProperty("amount").GetString());
        return pending.GetProperty("id").GetString()!;
    }
}
