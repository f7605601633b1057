using System.Net;
using System.Text.Json;
using Sessions.Testing;
using static VaultApi.Tests.Vaults.VaultHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace VaultApi.Tests.Vaults;

// Documents: add (text, JSON, size limit), get, list with cursor pagination in both orders, /api/vaults/current.
public sealed class DocumentTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    VaultHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await VaultHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Text_and_json_documents_round_trip_with_metadata()
    {
        var vaultId = (await _api.CreateVaultAsync()).Str("id");

        using var text = await _api.AddAsync(vaultId, "notes.txt", "héllo", requestId: "req_1");
        var added = await JsonAsync(text, HttpStatusCode.Created);
        Assert.Matches("^doc_[0-9a-f]{32}$", added.Str("id"));
        Assert.Equal("text/plain; charset=utf-8", added.Str("contentType"));
        Assert.Equal(6, added.GetProperty("size").GetInt32());   // UTF-8 bytes
        Assert.Equal("req_1", added.Str("addedBy"));
        Assert.Equal(_api.Clock.GetUtcNow(), added.GetProperty("createdAt").GetDateTimeOffset());

        using var json = await _api.SendAsync(HttpMethod.Post, $"/api/vaults/{vaultId}/documents",
            new { name = "result.json", content = new { answer = 42, items = new[] { "a", "b" } }, addedBy = "vault_add_document" });
        var jsonDoc = await JsonAsync(json, HttpStatusCode.Created);
        Assert.Equal("application/json", jsonDoc.Str("contentType"));
        Assert.Equal("vault_add_document", jsonDoc.Str("addedBy"));

        using var getText = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents/{added.Str("id")}");
        Assert.Equal("héllo", (await JsonAsync(getText, HttpStatusCode.OK)).Str("content"));
        using var getJson = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents/{jsonDoc.Str("id")}");
        var content = (await JsonAsync(getJson, HttpStatusCode.OK)).GetProperty("content");
        Assert.Equal(42, content.GetProperty("answer").GetInt32());
        Assert.Equal("b", content.GetProperty("items")[1].GetString());

        using var missing = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents/doc_{Guid.NewGuid():N}");
        Assert.Equal("document-not-found", await ProblemCodeAsync(missing, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task Content_and_type_are_validated()
    {
        var vaultId = (await _api.CreateVaultAsync()).Str("id");
        using var badJsonText = await _api.AddAsync(vaultId, "x.json", "{not json", "application/json");
        Assert.True((await JsonAsync(badJsonText, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("content", out _));
        using var jsonAsText = await _api.AddAsync(vaultId, "x", new { a = 1 }, "text/plain");
        Assert.True((await JsonAsync(jsonAsText, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("contentType", out _));
        using var noName = await _api.AddAsync(vaultId, "", "x");
        Assert.True((await JsonAsync(noName, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("name", out _));
        using var jsonText = await _api.AddAsync(vaultId, "ok.json", "[1,2]", "application/vnd.example+json");
        Assert.Equal(HttpStatusCode.Created, jsonText.StatusCode);
    }

    [Fact]
    public async Task Size_limit_accepts_exactly_the_limit_and_answers_413_above_it()
    {
        var vaultId = (await _api.CreateVaultAsync()).Str("id");
        using var atLimit = await _api.AddAsync(vaultId, "full", new string('a', MaxDocumentBytes));
        Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);

        using var above = await _api.AddAsync(vaultId, "too big", new string('a', MaxDocumentBytes + 1));
        Assert.Equal("document-too-large", await ProblemCodeAsync(above, HttpStatusCode.RequestEntityTooLarge));
        // Multi-byte characters count as their UTF-8 bytes, not as characters.
        using var multiByte = await _api.AddAsync(vaultId, "é", new string('é', MaxDocumentBytes / 2 + 1));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, multiByte.StatusCode);
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM vault_documents WHERE vault_id = $1", vaultId));
    }

    [Theory]
    [InlineData("newest")]
    [InlineData("name")]
    public async Task Pagination_visits_every_document_once_in_order(string order)
    {
        var vaultId = (await _api.CreateVaultAsync()).Str("id");
        string[] names = ["delta", "alpha", "echo", "bravo", "charlie", "alpha"];   // a duplicate name: seq breaks the tie
        foreach (var name in names)
        {
            using var response = await _api.AddAsync(vaultId, name, name);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var seen = new List<JsonElement>();
        string? cursor = null;
        var pages = 0;
        do
        {
            using var response = await _api.SendAsync(HttpMethod.Get,
                $"/api/vaults/{vaultId}/documents?order={order}&limit=4{(cursor is null ? "" : "&cursor=" + cursor)}");
            var page = await JsonAsync(response, HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("items").EnumerateArray());
            Assert.False(seen[^1].TryGetProperty("content", out var c) && c.ValueKind != JsonValueKind.Null);   // metadata only
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        } while (cursor is not null);

        Assert.Equal(2, pages);
        Assert.Equal(names.Length, seen.Select(d => d.Str("id")).Distinct().Count());
        var expected = order == "name" ? names.Order(StringComparer.Ordinal).ToArray() : names.Reverse().ToArray();
        Assert.Equal(expected, seen.Select(d => d.Str("name")));
    }

    [Fact]
    public async Task Exact_page_has_no_next_cursor_and_bad_parameters_are_400()
    {
        var vaultId = (await _api.CreateVaultAsync()).Str("id");
        using var empty = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents");
        var emptyPage = await JsonAsync(empty, HttpStatusCode.OK);
        Assert.Equal(0, emptyPage.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, emptyPage.GetProperty("nextCursor").ValueKind);

        for (var i = 0; i < 2; i++) (await _api.AddAsync(vaultId, $"d{i}", "x")).Dispose();
        using var exact = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents?limit=2");
        Assert.Equal(JsonValueKind.Null, (await JsonAsync(exact, HttpStatusCode.OK)).GetProperty("nextCursor").ValueKind);

        using var first = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents?limit=1");
        var newestCursor = (await JsonAsync(first, HttpStatusCode.OK)).Str("nextCursor");
        foreach (var query in new[] { "limit=0", "limit=101", "order=size", "cursor=%%%", "cursor=garbage", $"order=name&cursor={newestCursor}" })
        {
            using var response = await _api.SendAsync(HttpMethod.Get, $"/api/vaults/{vaultId}/documents?{query}");
            Assert.True(HttpStatusCode.BadRequest == response.StatusCode, query);
        }
    }

    [Fact]
    public async Task Current_resolves_the_vault_of_the_contexts_session()
    {
        var sessionId = NewSessionId();
        var vault = await _api.CreateVaultAsync(sessionId: sessionId);

        using var current = await _api.SendAsync(HttpMethod.Get, "/api/vaults/current", sessionId: sessionId);
        Assert.Equal(vault.Str("id"), (await JsonAsync(current, HttpStatusCode.OK)).Str("id"));

        using var noSession = await _api.SendAsync(HttpMethod.Get, "/api/vaults/current");
        Assert.Equal("vault-not-found", await ProblemCodeAsync(noSession, HttpStatusCode.NotFound));
        using var otherPayer = await _api.SendAsync(HttpMethod.Get, "/api/vaults/current", payer: OtherPayer, sessionId: sessionId);
        Assert.Equal(HttpStatusCode.NotFound, otherPayer.StatusCode);
        using var otherOrg = await _api.SendAsync(HttpMethod.Get, "/api/vaults/current", organization: "acme", sessionId: sessionId);
        Assert.Equal(HttpStatusCode.NotFound, otherOrg.StatusCode);
    }
}
