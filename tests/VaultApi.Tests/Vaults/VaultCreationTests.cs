using System.Net;
using Sessions.Testing;
using static VaultApi.Tests.Vaults.VaultHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace VaultApi.Tests.Vaults;

// PUT /internal/vaults/{sessionId}: idempotent, one vault per session whatever the callers do.
public sealed class VaultCreationTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    VaultHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await VaultHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task First_put_creates_201_and_a_repeat_answers_200_with_the_same_vault()
    {
        var sessionId = NewSessionId();
        var expiresAt = _api.Clock.GetUtcNow().AddHours(2);
        using var first = await _api.EnsureAsync(sessionId, expiresAt: expiresAt);
        var created = await JsonAsync(first, HttpStatusCode.Created);
        Assert.Matches("^vlt_[0-9a-f]{32}$", created.Str("id"));
        Assert.Equal($"/api/vaults/{created.Str("id")}", first.Headers.Location?.OriginalString);
        Assert.Equal(sessionId, created.Str("sessionId"));
        Assert.Equal(Payer, created.Str("payer"));
        Assert.Equal("active", created.Str("state"));
        Assert.Equal(expiresAt, created.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.Equal(expiresAt.AddDays(30), created.GetProperty("retentionUntil").GetDateTimeOffset());

        using var again = await _api.EnsureAsync(sessionId, expiresAt: expiresAt);
        Assert.Equal(created.Str("id"), (await JsonAsync(again, HttpStatusCode.OK)).Str("id"));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM vaults WHERE session_id = $1", sessionId));
    }

    [Fact]
    public async Task Concurrent_duplicate_puts_converge_on_one_vault()
    {
        var sessionId = NewSessionId();
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => _api.EnsureAsync(sessionId)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(39, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var ids = await Task.WhenAll(responses.Select(async r => (await JsonAsync(r, r.StatusCode)).Str("id")));
        Assert.Single(ids.Distinct());
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM vaults WHERE session_id = $1", sessionId));
        foreach (var response in responses) response.Dispose();
    }

    [Fact]
    public async Task Payer_is_stored_lowercase_and_must_be_the_contexts()
    {
        var sessionId = NewSessionId();
        using var mixedCase = await _api.SendAsync(HttpMethod.Put, $"/internal/vaults/{sessionId}",
            new { organization = Organization, payer = "0xAbCdEf0000000000000000000000000000000001", expiresAt = _api.Clock.GetUtcNow().AddHours(1) },
            payer: "0xabcdef0000000000000000000000000000000001");
        Assert.Equal("0xabcdef0000000000000000000000000000000001", (await JsonAsync(mixedCase, HttpStatusCode.Created)).Str("payer"));

        using var mismatch = await _api.EnsureAsync(NewSessionId(), payer: Payer, contextPayer: OtherPayer);
        Assert.Equal("payer-mismatch", await ProblemCodeAsync(mismatch, HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task A_session_whose_vault_belongs_to_another_payer_is_a_conflict_not_a_second_vault()
    {
        var sessionId = NewSessionId();
        using var first = await _api.EnsureAsync(sessionId);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var other = await _api.EnsureAsync(sessionId, payer: OtherPayer);
        Assert.Equal("vault-conflict", await ProblemCodeAsync(other, HttpStatusCode.Conflict));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM vaults WHERE session_id = $1", sessionId));
    }

    [Fact]
    public async Task Invalid_requests_are_400_and_no_context_is_401()
    {
        using var badSession = await _api.EnsureAsync("not-a-session");
        var problem = await JsonAsync(badSession, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("sessionId", out _));

        using var missing = await _api.SendAsync(HttpMethod.Put, $"/internal/vaults/{NewSessionId()}", new { organization = Organization });
        var errors = (await JsonAsync(missing, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("payer", out _));
        Assert.True(errors.TryGetProperty("expiresAt", out _));

        using var anonymous = await _api.SendAsync(HttpMethod.Put, $"/internal/vaults/{NewSessionId()}",
            new { organization = Organization, payer = Payer, expiresAt = _api.Clock.GetUtcNow().AddHours(1) }, payer: null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }
}
