using System.Net;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static VaultApi.Tests.Vaults.VaultHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace VaultApi.Tests.Vaults;

// Only the payer of the vault's session in its organisation reaches it; everyone else gets the same 404 as for no vault.
public sealed class IsolationTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    VaultHarness _api = null!;
    string _vaultId = "";
    string _documentId = "";

    public async ValueTask InitializeAsync()
    {
        _api = await VaultHarness.StartAsync(infrastructure);
        _vaultId = (await _api.CreateVaultAsync()).Str("id");
        using var added = await _api.AddAsync(_vaultId, "secret", "payer's data");
        _documentId = (await JsonAsync(added, HttpStatusCode.Created)).Str("id");
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    public static TheoryData<string, string> Strangers => new()
    {
        { OtherPayer, Organization },   // another payer, same organisation
        { Payer, "acme" },              // the same payer in another organisation
    };

    [Theory]
    [MemberData(nameof(Strangers))]
    public async Task Another_payer_or_organisation_gets_404_everywhere_exactly_like_a_missing_vault(string payer, string organization)
    {
        var missing = $"vlt_{Guid.NewGuid():N}";
        foreach (var (method, path, body) in Calls(_vaultId, _documentId))
        {
            using var response = await _api.SendAsync(method, path, body, payer, organization);
            Assert.Equal("vault-not-found", await ProblemCodeAsync(response, HttpStatusCode.NotFound));
            using var unknown = await _api.SendAsync(method, path.Replace(_vaultId, missing), body, Payer);
            Assert.Equal("vault-not-found", await ProblemCodeAsync(unknown, HttpStatusCode.NotFound));
        }
        using var seal = await _api.SendAsync(HttpMethod.Post, $"/internal/vaults/{await SessionIdAsync()}/seal", null, payer, organization);
        Assert.Equal(HttpStatusCode.NotFound, seal.StatusCode);
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM vault_documents WHERE vault_id = $1", _vaultId));
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM vault_access_tokens"));
        Assert.Equal("active", await _api.ScalarAsync<string>("SELECT state FROM vaults WHERE id = $1", _vaultId));
    }

    [Fact]
    public async Task A_forged_context_is_401_and_no_credential_is_401()
    {
        var forger = new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = new string('x', 48) }), _api.Clock);
        var forged = forger.Sign(new PayerContext { Payer = Payer, Organization = Organization, ExpiresAt = forger.NewExpiry() });
        foreach (var (method, path, body) in Calls(_vaultId, _documentId))
        {
            using var withForged = await _api.SendAsync(method, path, body, payer: null,
                configure: r => r.Headers.Add(PayerContextSigner.HeaderName, forged));
            Assert.Equal(HttpStatusCode.Unauthorized, withForged.StatusCode);
            Assert.Equal("application/problem+json", withForged.Content.Headers.ContentType?.MediaType);
            using var anonymous = await _api.SendAsync(method, path, body, payer: null);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM vault_documents WHERE vault_id = $1", _vaultId));
    }

    Task<string> SessionIdAsync() => _api.ScalarAsync<string>("SELECT session_id FROM vaults WHERE id = $1", _vaultId);

    static IEnumerable<(HttpMethod, string, object?)> Calls(string vaultId, string documentId) =>
    [
        (HttpMethod.Get, $"/api/vaults/{vaultId}", null),
        (HttpMethod.Get, $"/api/vaults/{vaultId}/documents", null),
        (HttpMethod.Get, $"/api/vaults/{vaultId}/documents/{documentId}", null),
        (HttpMethod.Post, $"/api/vaults/{vaultId}/documents", new { name = "intruder", content = "x" }),
        (HttpMethod.Post, $"/api/vaults/{vaultId}/access-tokens", null),
        (HttpMethod.Get, $"/api/vaults/{vaultId}/access-tokens", null),
        (HttpMethod.Delete, $"/api/vaults/{vaultId}/access-tokens/vtk_{Guid.NewGuid():N}", null),
    ];
}
