using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Testing;
using Sessions.VaultApi.Vaults;
using static VaultApi.Tests.Vaults.VaultHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace VaultApi.Tests.Vaults;

// active -> sealed (session closed) or expired (session expiry): read-only, still readable; deleted after retention.
public sealed class LifecycleTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    VaultHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await VaultHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    Task<(int Expired, int Deleted)> SweepAsync() =>
        _api.Services.GetRequiredService<RetentionSweeper>().SweepAsync(TestContext.Current.CancellationToken);

    [Fact]
    public async Task Sealing_makes_the_vault_read_only_but_readable_and_is_idempotent()
    {
        var sessionId = NewSessionId();
        var vaultId = (await _api.CreateVaultAsync(sessionId: sessionId)).Str("id");
        (await _api.AddAsync(vaultId, "before", "kept")).Dispose();
        _api.Clock.Advance(TimeSpan.FromMinutes(10));

        using var seal = await _api.SendAsync(HttpMethod.Post, $"/internal/vaults/{sessionId}/seal");
        var sealedVault = await JsonAsync(seal, HttpStatusCode.OK);
        Assert.Equal("sealed", sealedVault.Str("state"));
        Assert.Equal(_api.Clock.GetUtcNow(), sealedVault.GetProperty("sealedAt").GetDateTimeOffset());
        Assert.Equal(_api.Clock.GetUtcNow().AddDays(30), sealedVault.GetProperty("retentionUntil").GetDateTimeOffset());

        _api.Clock.Advance(TimeSpan.FromMinutes(1));
        using var again = await _api.SendAsync(HttpMethod.Post, $"/internal/vaults/{sessionId}/seal");
        Assert.Equal(sealedVault.GetProperty("sealedAt").GetDateTimeOffset(), (await JsonAsync(again, HttpStatusCode.OK)).GetProperty("sealedAt").GetDateTimeOffset());

        using var add = await _api.AddAsync(vaultId, "after", "refused");
        Assert.Equal("vault-read-only", await ProblemCodeAsync(add, HttpStatusCode.Conflict));
        using var list = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents");
        Assert.Equal("before", (await JsonAsync(list, HttpStatusCode.OK)).GetProperty("items")[0].Str("name"));

        using var unknown = await _api.SendAsync(HttpMethod.Post, $"/internal/vaults/{NewSessionId()}/seal");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task After_the_session_expiry_adding_is_409_reading_works_and_the_sweeper_stores_the_state()
    {
        var vaultId = (await _api.CreateVaultAsync(ttl: TimeSpan.FromMinutes(5))).Str("id");
        using var added = await _api.AddAsync(vaultId, "work", "done");
        var documentId = (await JsonAsync(added, HttpStatusCode.Created)).Str("id");

        _api.Clock.Advance(TimeSpan.FromMinutes(5));   // expires_at <= now: expired from this instant
        using var vault = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}");
        Assert.Equal("expired", (await JsonAsync(vault, HttpStatusCode.OK)).Str("state"));
        using var add = await _api.AddAsync(vaultId, "late", "x");
        var problem = await JsonAsync(add, HttpStatusCode.Conflict);
        Assert.Equal("vault-read-only", problem.Str("code"));
        Assert.Equal("expired", problem.Str("state"));
        using var read = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents/{documentId}");
        Assert.Equal("done", (await JsonAsync(read, HttpStatusCode.OK)).Str("content"));

        Assert.Equal("active", await _api.ScalarAsync<string>("SELECT state FROM vaults WHERE id = $1", vaultId));
        Assert.Equal((1, 0), await SweepAsync());
        Assert.Equal("expired", await _api.ScalarAsync<string>("SELECT state FROM vaults WHERE id = $1", vaultId));
        Assert.Equal((0, 0), await SweepAsync());
    }

    [Fact]
    public async Task Retention_per_organisation_deletes_the_vault_with_documents_and_tokens()
    {
        var demo = (await _api.CreateVaultAsync(ttl: TimeSpan.FromHours(1))).Str("id");                          // 30 days (default)
        var shortLived = (await _api.CreateVaultAsync(organization: "short", ttl: TimeSpan.FromHours(1))).Str("id");   // 1 day
        foreach (var (id, org) in new[] { (demo, Organization), (shortLived, "short") })
        {
            (await _api.AddAsync(id, "doc", "x", organization: org)).Dispose();
            (await _api.SendAsync(HttpMethod.Post, $"/api/vaults/{id}/access-tokens", organization: org)).Dispose();
        }

        _api.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));
        Assert.Equal((2, 0), await SweepAsync());
        _api.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((0, 1), await SweepAsync());

        using var gone = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{shortLived}/documents", organization: "short");
        Assert.Equal("vault-not-found", await ProblemCodeAsync(gone, HttpStatusCode.NotFound));
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM vault_documents WHERE vault_id = $1", shortLived));
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM vault_access_tokens WHERE vault_id = $1", shortLived));
        using var kept = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{demo}/documents");
        Assert.Equal(1, (await JsonAsync(kept, HttpStatusCode.OK)).GetProperty("items").GetArrayLength());

        _api.Clock.Advance(TimeSpan.FromDays(29));
        Assert.Equal((0, 1), await SweepAsync());
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM vaults"));
    }

    [Fact]
    public async Task Retention_of_a_sealed_vault_counts_from_the_seal()
    {
        var sessionId = NewSessionId();
        var vaultId = (await _api.CreateVaultAsync(organization: "short", ttl: TimeSpan.FromDays(7), sessionId: sessionId)).Str("id");
        (await _api.SendAsync(HttpMethod.Post, $"/internal/vaults/{sessionId}/seal", organization: "short")).Dispose();

        _api.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal((0, 1), await SweepAsync());
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM vaults WHERE id = $1", vaultId));
    }
}
