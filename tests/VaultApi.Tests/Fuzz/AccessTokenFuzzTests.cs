using System.Net;
using Sessions.Testing;
using Sessions.Testing.Fuzz;
using VaultApi.Tests.Vaults;
using static Sessions.Testing.ServiceHarness<Program>;

namespace VaultApi.Tests.Fuzz;

// Seeded fuzzing of vault access tokens (Authorization: Bearer vat_… and Vault-Access-Token) through VaultApi on its real
// database: mutations of a live token. Oracle: 200 only for the live token itself, else 401/404; never a 5xx; nothing written.
public sealed class AccessTokenFuzzTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const int Requests = 10_000;
    VaultHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await VaultHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    Task<long> RowsAsync() => _api.ScalarAsync<long>(
        "SELECT (SELECT count(*) FROM vaults) + (SELECT count(*) FROM vault_documents) + (SELECT count(*) FROM vault_access_tokens)");

    [Fact]
    public async Task Fuzzed_access_tokens_read_nothing_but_their_vault_and_never_fail()
    {
        var vaultId = (await _api.CreateVaultAsync()).Str("id");
        using (var added = await _api.AddAsync(vaultId, "shared", "for the auditor"))
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        using var create = await _api.SendAsync(HttpMethod.Post, $"/api/vaults/{vaultId}/access-tokens");
        var token = (await JsonAsync(create, HttpStatusCode.Created)).Str("token");
        var rows = await RowsAsync();
        var random = new Random(13401);

        await HeaderFuzz.RunTextAsync(13401, Requests, [token, "vat_" + new string('A', 43)], async mutated =>
        {
            var value = HeaderFuzz.AsDelivered(mutated);
            var bearer = random.Next(2) == 0;
            using var response = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents", payer: null, configure: request =>
                request.Headers.TryAddWithoutValidation(bearer ? "Authorization" : "Vault-Access-Token", bearer ? "Bearer " + value : value));
            var status = (int)response.StatusCode;
            Assert.True(status is 200 or 401 or 404, $"{status}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
            if (status == 200)
                Assert.Equal(token, value.Trim());
        });

        Assert.Equal(rows, await RowsAsync());
    }
}
