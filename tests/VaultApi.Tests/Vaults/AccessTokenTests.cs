using System.Net;
using System.Net.Http.Headers;
using Sessions.Testing;
using static VaultApi.Tests.Vaults.VaultHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace VaultApi.Tests.Vaults;

// Read-only sharing: a vault access token reads exactly one vault, without a payer context, until revoked.
public sealed class AccessTokenTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    VaultHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await VaultHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    Task<HttpResponseMessage> WithTokenAsync(HttpMethod method, string path, string token, bool bearer = true, object? body = null) =>
        _api.SendAsync(method, path, body, payer: null, configure: r =>
        {
            if (bearer) r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            else r.Headers.Add("Vault-Access-Token", token);
        });

    [Fact]
    public async Task A_token_reads_exactly_its_vault_until_revoked()
    {
        var vaultId = (await _api.CreateVaultAsync()).Str("id");
        var otherVault = (await _api.CreateVaultAsync()).Str("id");
        using var added = await _api.AddAsync(vaultId, "shared", "for the auditor");
        var documentId = (await JsonAsync(added, HttpStatusCode.Created)).Str("id");

        using var create = await _api.SendAsync(HttpMethod.Post, $"/api/vaults/{vaultId}/access-tokens");
        var created = await JsonAsync(create, HttpStatusCode.Created);
        var token = created.Str("token");
        var tokenId = created.Str("id");
        Assert.StartsWith("vat_", token);
        Assert.Matches("^vtk_[0-9a-f]{32}$", tokenId);

        foreach (var bearer in new[] { true, false })
        {
            using var list = await WithTokenAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents", token, bearer);
            Assert.Equal("shared", (await JsonAsync(list, HttpStatusCode.OK)).GetProperty("items")[0].Str("name"));
            using var get = await WithTokenAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents/{documentId}", token, bearer);
            Assert.Equal("for the auditor", (await JsonAsync(get, HttpStatusCode.OK)).Str("content"));
            using var vault = await WithTokenAsync(HttpMethod.Get, $"/api/vaults/{vaultId}", token, bearer);
            Assert.Equal(HttpStatusCode.OK, vault.StatusCode);
        }

        // Exactly one vault, read-only, and no token management with a token.
        using var other = await WithTokenAsync(HttpMethod.Get, $"/api/vaults/{otherVault}/documents", token);
        Assert.Equal("vault-not-found", await ProblemCodeAsync(other, HttpStatusCode.NotFound));
        using var write = await WithTokenAsync(HttpMethod.Post, $"/api/vaults/{vaultId}/documents", token, body: new { name = "x", content = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        using var mint = await WithTokenAsync(HttpMethod.Post, $"/api/vaults/{vaultId}/access-tokens", token);
        Assert.Equal(HttpStatusCode.Unauthorized, mint.StatusCode);
        using var current = await WithTokenAsync(HttpMethod.Get, "/api/vaults/current", token);
        Assert.Equal(HttpStatusCode.Unauthorized, current.StatusCode);

        using var listTokens = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/access-tokens");
        var items = (await JsonAsync(listTokens, HttpStatusCode.OK)).GetProperty("items");
        Assert.Equal(tokenId, Assert.Single(items.EnumerateArray()).Str("id"));
        Assert.DoesNotContain(token, items.GetRawText());   // shown once, never listed

        using var revoke = await _api.SendAsync(HttpMethod.Delete, $"/api/vaults/{vaultId}/access-tokens/{tokenId}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        using var revokedRead = await WithTokenAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents", token);
        Assert.Equal("vault-access-denied", await ProblemCodeAsync(revokedRead, HttpStatusCode.Unauthorized));
        using var listed = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/access-tokens");
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null,
            (await JsonAsync(listed, HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("revokedAt").ValueKind);

        using var revokeAgain = await _api.SendAsync(HttpMethod.Delete, $"/api/vaults/{vaultId}/access-tokens/{tokenId}");
        Assert.Equal(HttpStatusCode.NoContent, revokeAgain.StatusCode);
        using var unknown = await _api.SendAsync(HttpMethod.Delete, $"/api/vaults/{vaultId}/access-tokens/vtk_{Guid.NewGuid():N}");
        Assert.Equal("access-token-not-found", await ProblemCodeAsync(unknown, HttpStatusCode.NotFound));
        using var tokenOfOtherVault = await _api.SendAsync(HttpMethod.Delete, $"/api/vaults/{otherVault}/access-tokens/{tokenId}");
        Assert.Equal(HttpStatusCode.NotFound, tokenOfOtherVault.StatusCode);
    }

    [Fact]
    public async Task A_token_keeps_reading_after_the_session_expired_and_a_wrong_token_is_401()
    {
        var vaultId = (await _api.CreateVaultAsync(ttl: TimeSpan.FromMinutes(5))).Str("id");
        (await _api.AddAsync(vaultId, "report", "final")).Dispose();
        _api.Clock.Advance(TimeSpan.FromHours(1));
        using var create = await _api.SendAsync(HttpMethod.Post, $"/api/vaults/{vaultId}/access-tokens");
        var token = (await JsonAsync(create, HttpStatusCode.Created)).Str("token");

        using var read = await WithTokenAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents", token);
        Assert.Equal(1, (await JsonAsync(read, HttpStatusCode.OK)).GetProperty("items").GetArrayLength());
        using var wrong = await WithTokenAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents", token + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }
}
