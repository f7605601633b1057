using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Interop.Tests;

/// <summary>
/// Issue 6's acceptance through the running stack: a session opened by the official client gets its vault; documents added
/// over several session requests are listed (both orders, pages) and read; another payer, a forged payer context and a
/// revoked access token read nothing; after the session expires the documents stay readable and adding answers a clear
/// error (402 with the reason for the token, 409 for a paid request, nothing charged); after retention the vault is gone,
/// with vault.expiring and vault.expired in SessionApi's outbox. Expiry takes the minimum session TTL (60 s).
/// </summary>
public class VaultsTests(StackFixture stack)
{
    const long DocumentPrice = 1000;   // POST /api/vaults/{id}/documents: $0.001 in PaymentGate/appsettings.json
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Session_vault_accumulates_documents_stays_readable_after_expiry_and_is_deleted_after_retention()
    {
        var owner = await stack.FundedWalletAsync(PaymentAssertions.Funding, Ct);
        var other = await stack.FundedWalletAsync(PaymentAssertions.Funding, Ct);
        var (sessionId, token, vaultId, expiresAt) = await OpenAsync(owner, deposit: 20 * DocumentPrice, ttlSeconds: 60);
        var (_, otherToken, otherVaultId, _) = await OpenAsync(other, deposit: 20 * DocumentPrice, ttlSeconds: 3600);
        Assert.NotEqual(vaultId, otherVaultId);

        // One vault per session, checked in both databases (SessionApi's provisioner confirms it within seconds).
        var vaultsDb = await stack.ConnectionStringAsync("vaultsdb", Ct);
        var sessionsDb = await stack.ConnectionStringAsync("sessionsdb", Ct);
        if (vaultsDb is not null && sessionsDb is not null)
        {
            Assert.Equal(1L, await ScalarAsync(vaultsDb, "SELECT count(*) FROM vaults WHERE session_id = $1", sessionId));
            await EventuallyAsync(async () => await ScalarAsync(sessionsDb, "SELECT vault_id FROM sessions WHERE id = $1", sessionId) as string == vaultId,
                TimeSpan.FromSeconds(30), "SessionApi confirms the session's vault");
        }

        // The current vault, then three documents over three session requests, each charged to the session.
        using (var current = await SendAsync(HttpMethod.Get, "api/vaults/current", token))
            Assert.Equal((vaultId, "active"), await VaultAsync(current));
        var balances = new List<long>();
        string[] names = ["b-report", "a-notes", "c-data"];
        foreach (var name in names)
        {
            object content = name == "c-data" ? new { rows = 3, ok = true } : $"text of {name}";
            using var added = await SendAsync(HttpMethod.Post, $"api/vaults/{vaultId}/documents", token, new { name, content });
            var document = await JsonAsync(added, HttpStatusCode.Created);
            Assert.Equal(name == "c-data" ? "application/json" : "text/plain; charset=utf-8", document.GetProperty("contentType").GetString());
            balances.Add(long.Parse(added.Headers.GetValues("Payment-Session-Balance").Single(), CultureInfo.InvariantCulture));
        }
        Assert.Equal([19 * DocumentPrice, 18 * DocumentPrice, 17 * DocumentPrice], balances);

        // Newest first in pages of two, then by name; one document read in full.
        var firstPage = await GetJsonAsync($"api/vaults/{vaultId}/documents?limit=2", token);
        Assert.Equal(["c-data", "a-notes"], Names(firstPage));
        var cursor = firstPage.GetProperty("nextCursor").GetString();
        var secondPage = await GetJsonAsync($"api/vaults/{vaultId}/documents?limit=2&cursor={cursor}", token);
        Assert.Equal(["b-report"], Names(secondPage));
        Assert.Equal(JsonValueKind.Null, secondPage.GetProperty("nextCursor").ValueKind);
        var byName = await GetJsonAsync($"api/vaults/{vaultId}/documents?order=name", token);
        Assert.Equal(["a-notes", "b-report", "c-data"], Names(byName));
        var dataId = byName.GetProperty("items")[2].GetProperty("id").GetString();
        var data = await GetJsonAsync($"api/vaults/{vaultId}/documents/{dataId}", token);
        Assert.Equal(3, data.GetProperty("content").GetProperty("rows").GetInt32());

        // Isolation: another payer's token, no token with a forged payer context, a made-up token.
        using (var foreign = await SendAsync(HttpMethod.Get, $"api/vaults/{vaultId}/documents", otherToken))
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using (var foreignAdd = await SendAsync(HttpMethod.Post, $"api/vaults/{vaultId}/documents", otherToken, new { name = "intruder", content = "x" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreignAdd.StatusCode);
            // Not served, so not charged: the debit was credited back.
            Assert.Equal((20 * DocumentPrice).ToString(CultureInfo.InvariantCulture), foreignAdd.Headers.GetValues("Payment-Session-Balance").Single());
        }
        using (var forged = new HttpRequestMessage(HttpMethod.Get, $"api/vaults/{vaultId}/documents"))
        {
            forged.Headers.TryAddWithoutValidation("X-Payer-Context", "eyJwYXllciI6IjB4MDAwIn0.forged");
            using var response = await stack.Gate.SendAsync(forged, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using (var madeUp = await SendAsync(HttpMethod.Get, $"api/vaults/{vaultId}", "st_" + new string('A', 43)))
            Assert.Equal(HttpStatusCode.Unauthorized, madeUp.StatusCode);

        // A read-only access token: reads this vault without a session or payment, nothing else, and stops when revoked.
        using var created = await SendAsync(HttpMethod.Post, $"api/vaults/{vaultId}/access-tokens", token);
        var access = await JsonAsync(created, HttpStatusCode.Created);
        var accessToken = access.GetProperty("token").GetString()!;
        Assert.Equal(3, (await GetJsonAsync($"api/vaults/{vaultId}/documents", bearer: accessToken)).GetProperty("items").GetArrayLength());
        using (var elsewhere = await SendAsync(HttpMethod.Get, $"api/vaults/{otherVaultId}/documents", bearer: accessToken))
            Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        using (var write = await SendAsync(HttpMethod.Post, $"api/vaults/{vaultId}/documents", bearer: accessToken, body: new { name = "x", content = "x" }))
            Assert.Equal(HttpStatusCode.PaymentRequired, write.StatusCode);   // writing is a paid request of the owner, never the token's
        using (var revoked = await SendAsync(HttpMethod.Delete, $"api/vaults/{vaultId}/access-tokens/{access.GetProperty("id").GetString()}", token))
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        using (var afterRevoke = await SendAsync(HttpMethod.Get, $"api/vaults/{vaultId}/documents", bearer: accessToken))
            Assert.True(afterRevoke.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound, $"revoked token answered {(int)afterRevoke.StatusCode}");

        // The session expires (TTL 60 s): the vault is read-only and still readable.
        var wait = expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, Ct);
        using (var current = await SendAsync(HttpMethod.Get, "api/vaults/current", token))
            Assert.Equal((vaultId, "expired"), await VaultAsync(current));
        Assert.Equal(3, (await GetJsonAsync($"api/vaults/{vaultId}/documents", token)).GetProperty("items").GetArrayLength());
        using (var late = await SendAsync(HttpMethod.Post, $"api/vaults/{vaultId}/documents", token, new { name = "late", content = "x" }))
        {
            var problem = await JsonAsync(late, HttpStatusCode.PaymentRequired);
            Assert.Contains("session has expired", problem.GetProperty("error").GetString());
        }
        var ownerBefore = (await stack.AccountAsync(owner.Address, Ct)).Balance;
        var paid = await stack.RunScriptAsync("pay.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl, ["PRIVATE_KEY"] = owner.PrivateKey, ["METHOD"] = "POST",
            ["URL_PATH"] = $"/api/vaults/{vaultId}/documents", ["BODY"] = """{"name":"late","content":"x"}""",
        }, Ct);
        var answer = paid.GetProperty("answer");
        Assert.True(answer.GetProperty("status").GetInt32() == 409, NodeRunner.Pretty(paid));
        Assert.Contains("vault-read-only", answer.GetProperty("body").GetString());
        Assert.Equal(ownerBefore, (await stack.AccountAsync(owner.Address, Ct)).Balance);   // refused upstream: never settled

        // Retention: vault.expiring, then vault.expired and the vault is gone.
        await EventuallyAsync(async () =>
        {
            using var gone = await SendAsync(HttpMethod.Get, $"api/vaults/{vaultId}", token);
            return gone.StatusCode == HttpStatusCode.NotFound;
        }, StackFixture.VaultRetention + TimeSpan.FromSeconds(30), "the vault is deleted after retention");
        if (vaultsDb is not null && sessionsDb is not null)
        {
            Assert.Equal(0L, await ScalarAsync(vaultsDb, "SELECT count(*) FROM vault_documents d JOIN vaults v ON v.id = d.vault_id WHERE v.session_id = $1", sessionId));
            Assert.Equal(1L, await ScalarAsync(sessionsDb, "SELECT count(*) FROM outbox WHERE event = 'vault.expiring' AND payload->>'vaultId' = $1", vaultId));
            Assert.Equal(1L, await ScalarAsync(sessionsDb, "SELECT count(*) FROM outbox WHERE event = 'vault.expired' AND payload->>'vaultId' = $1", vaultId));
        }
    }

    // Fault injection on the real processes: VaultApi SIGKILLed, a session is paid for and opened meanwhile (the gate answers
    // 503: the session exists, its vault cannot), and once VaultApi is started again the session has exactly one vault.
    [Fact]
    public async Task VaultApi_killed_during_session_creation_the_session_has_exactly_one_vault_once_it_is_back()
    {
        var vaultsDb = await stack.ConnectionStringAsync("vaultsdb", Ct);
        var sessionsDb = await stack.ConnectionStringAsync("sessionsdb", Ct);
        Assert.True(vaultsDb is not null && sessionsDb is not null, "This test kills a service: it needs the stack started by the test run.");
        var wallet = await stack.FundedWalletAsync(PaymentAssertions.Funding, Ct);

        await stack.KillAsync("vaultapi", Ct);
        try
        {
            var paid = await stack.RunScriptAsync("pay.mjs", new Dictionary<string, string>
            {
                ["GATE_URL"] = stack.GateUrl, ["PRIVATE_KEY"] = wallet.PrivateKey, ["METHOD"] = "POST",
                ["URL_PATH"] = "/api/sessions", ["BODY"] = """{"deposit":"20000","ttlSeconds":3600}""",
            }, Ct);
            var answer = paid.GetProperty("answer");
            Assert.True(answer.GetProperty("status").GetInt32() == 503, NodeRunner.Pretty(paid));
            Assert.Contains("paymentId", answer.GetProperty("body").GetString());
        }
        finally
        {
            await stack.StartAgainAsync("vaultapi", Ct);
        }

        var sessionId = (string)(await ScalarAsync(sessionsDb!, "SELECT id FROM sessions WHERE payer = $1", wallet.AddressLower))!;
        await EventuallyAsync(async () => await ScalarAsync(sessionsDb!, "SELECT vault_id FROM sessions WHERE id = $1", sessionId) is string,
            TimeSpan.FromSeconds(60), "SessionApi's provisioner gives the session its vault");
        Assert.Equal(1L, await ScalarAsync(vaultsDb!, "SELECT count(*) FROM vaults WHERE session_id = $1", sessionId));
        Assert.Equal(await ScalarAsync(vaultsDb!, "SELECT id FROM vaults WHERE session_id = $1", sessionId),
            await ScalarAsync(sessionsDb!, "SELECT vault_id FROM sessions WHERE id = $1", sessionId));
        Assert.Equal(1L, await ScalarAsync(sessionsDb!, "SELECT count(*) FROM sessions WHERE payer = $1", wallet.AddressLower));
    }

    async Task<(string SessionId, string Token, string VaultId, DateTimeOffset ExpiresAt)> OpenAsync(Wallet wallet, long deposit, int ttlSeconds)
    {
        var opened = await stack.RunScriptAsync("open-session.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl, ["PRIVATE_KEY"] = wallet.PrivateKey,
            ["DEPOSIT"] = deposit.ToString(CultureInfo.InvariantCulture), ["TTL_SECONDS"] = ttlSeconds.ToString(CultureInfo.InvariantCulture),
        }, Ct);
        var session = opened.GetProperty("session");
        return (session.GetProperty("id").GetString()!, opened.GetProperty("token").GetString()!, session.GetProperty("vaultId").GetString()!,
            session.GetProperty("expiresAt").GetDateTimeOffset());
    }

    Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null, object? body = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.TryAddWithoutValidation("Payment-Session", token);
        if (bearer is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {bearer}");
        if (body is not null) request.Content = JsonContent.Create(body);
        return stack.Gate.SendAsync(request, Ct);
    }

    async Task<JsonElement> GetJsonAsync(string path, string? token = null, string? bearer = null)
    {
        using var response = await SendAsync(HttpMethod.Get, path, token, bearer: bearer);
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    static async Task<(string?, string?)> VaultAsync(HttpResponseMessage response)
    {
        var vault = await JsonAsync(response, HttpStatusCode.OK);
        return (vault.GetProperty("id").GetString(), vault.GetProperty("state").GetString());
    }

    static List<string?> Names(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("name").GetString()).ToList();

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    static async Task<object?> ScalarAsync(string database, string sql, string argument)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = argument });
        return await command.ExecuteScalarAsync(Ct);
    }

    static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"Timed out after {timeout.TotalSeconds:0} s waiting until {what}.");
            await Task.Delay(500, Ct);
        }
    }
}
