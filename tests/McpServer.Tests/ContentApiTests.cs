using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using McpServer.Tests.Support;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace McpServer.Tests;

public sealed class ContentApiTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly ServiceFactory<Program> _factory = new(new Dictionary<string, string?>
    {
        ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
        ["PayerContext:SigningKey"] = Payers.SigningKey,
    });

    HttpClient As(string payer) => _factory.CreateClient().As(payer);

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
    }

    static Task<HttpResponseMessage> PutAsync(HttpClient client, string key, string value, string? query = null) =>
        client.PutAsync($"/api/content/{key}{query}", new StringContent(value, Encoding.UTF8, "text/plain"), Ct);

    static async Task<string[]> KeysAsync(HttpClient client, string query = "")
    {
        var body = await JsonAsync(await client.GetAsync("/api/content" + query, Ct));
        return [.. body.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("key").GetString()!)];
    }

    [Fact]
    public async Task Put_get_overwrite_delete()
    {
        var client = As(Payers.NewAddress());

        var put = await JsonAsync(await PutAsync(client, "notes/today", "buy milk ✓"));
        Assert.Equal("notes/today", put.GetProperty("key").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount("buy milk ✓"), put.GetProperty("size").GetInt64());
        Assert.False(put.TryGetProperty("expiresAt", out _));

        using (var get = await client.GetAsync("/api/content/notes/today", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("text/plain", get.Content.Headers.ContentType?.MediaType);
            Assert.Equal("buy milk ✓", await get.Content.ReadAsStringAsync(Ct));
        }

        // Any content type is stored as text.
        using (var json = await client.PutAsync("/api/content/notes/today", JsonContent.Create(new { a = 1 }), Ct))
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal("{\"a\":1}", await client.GetStringAsync("/api/content/notes/today", Ct));

        using (var delete = await client.DeleteAsync("/api/content/notes/today", Ct))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await ProblemAsync(await client.DeleteAsync("/api/content/notes/today", Ct), HttpStatusCode.NotFound);
        await ProblemAsync(await client.GetAsync("/api/content/notes/today", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Empty_value_is_a_value()
    {
        var client = As(Payers.NewAddress());
        Assert.Equal(0, (await JsonAsync(await PutAsync(client, "empty", ""))).GetProperty("size").GetInt64());
        using var get = await client.GetAsync("/api/content/empty", Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("", await get.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Payers_are_isolated()
    {
        var alice = As(Payers.NewAddress());
        var bob = As(Payers.NewAddress());
        await JsonAsync(await PutAsync(alice, "secret", "alice's"));

        await ProblemAsync(await bob.GetAsync("/api/content/secret", Ct), HttpStatusCode.NotFound);
        await ProblemAsync(await bob.DeleteAsync("/api/content/secret", Ct), HttpStatusCode.NotFound);
        Assert.Empty(await KeysAsync(bob));
        await JsonAsync(await PutAsync(bob, "secret", "bob's"));

        Assert.Equal("alice's", await alice.GetStringAsync("/api/content/secret", Ct));
        Assert.Equal("bob's", await bob.GetStringAsync("/api/content/secret", Ct));
        Assert.Equal(["secret"], await KeysAsync(alice));
    }

    [Fact]
    public async Task Checksummed_and_lowercase_addresses_are_one_payer()
    {
        var checksummed = As(Payers.ChecksummedAddress);
        var lowercase = As(Payers.ChecksummedAddress.ToLowerInvariant());
        var key = "case/" + Guid.NewGuid().ToString("N");

        await JsonAsync(await PutAsync(checksummed, key, "same payer"));

        Assert.Equal("same payer", await lowercase.GetStringAsync($"/api/content/{key}", Ct));
        Assert.Contains(key, await KeysAsync(lowercase, "?prefix=case/"));
    }

    [Fact]
    public async Task Listing_pages_with_a_cursor_in_key_order()
    {
        var client = As(Payers.NewAddress());
        var keys = Enumerable.Range(0, 7).Select(i => $"k{i}").ToArray();
        foreach (var key in keys.Reverse()) await JsonAsync(await PutAsync(client, key, "v-" + key));

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await JsonAsync(await client.GetAsync($"/api/content?limit=3{(cursor is null ? "" : "&cursor=" + cursor)}", Ct));
            var items = page.GetProperty("items").EnumerateArray().ToArray();
            foreach (var item in items)
            {
                seen.Add(item.GetProperty("key").GetString()!);
                Assert.Equal("v-" + item.GetProperty("key").GetString(), item.GetProperty("value").GetString());
            }
            cursor = page.GetProperty("nextCursor").GetString();
            Assert.Equal(pages < 2 ? 3 : 1, items.Length);
            Assert.Equal(pages < 2, cursor is not null);
            pages++;
        } while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(keys, seen);
    }

    [Fact]
    public async Task Limit_defaults_to_20()
    {
        var client = As(Payers.NewAddress());
        for (var i = 0; i < 21; i++) await JsonAsync(await PutAsync(client, $"item{i:00}", "x"));

        var page = await JsonAsync(await client.GetAsync("/api/content", Ct));
        Assert.Equal(20, page.GetProperty("items").GetArrayLength());
        Assert.Equal("item19", page.GetProperty("nextCursor").GetString());
        var rest = await JsonAsync(await client.GetAsync("/api/content?cursor=item19", Ct));
        Assert.Equal("item20", rest.GetProperty("items")[0].GetProperty("key").GetString());
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task Prefix_filters_and_keys_only_omits_values()
    {
        var client = As(Payers.NewAddress());
        foreach (var key in new[] { "notes/a", "notes/b", "notesX", "todo/1", "a" })
            await JsonAsync(await PutAsync(client, key, "value of " + key));

        Assert.Equal(["notes/a", "notes/b"], await KeysAsync(client, "?prefix=notes/"));
        Assert.Equal(["notes/a", "notes/b", "notesX"], await KeysAsync(client, "?prefix=notes"));
        Assert.Equal(["notes/b"], await KeysAsync(client, "?prefix=notes/&cursor=notes/a"));
        // A cursor before the prefix starts at the prefix.
        Assert.Equal(["todo/1"], await KeysAsync(client, "?prefix=todo/&cursor=a"));
        Assert.Empty(await KeysAsync(client, "?prefix=zzz"));

        var keysOnly = await JsonAsync(await client.GetAsync("/api/content?prefix=notes/&keysOnly=true", Ct));
        Assert.All(keysOnly.GetProperty("items").EnumerateArray(), item => Assert.False(item.TryGetProperty("value", out _)));
        Assert.Equal(2, keysOnly.GetProperty("items").GetArrayLength());
        var withValues = await JsonAsync(await client.GetAsync("/api/content?prefix=todo/", Ct));
        Assert.Equal("value of todo/1", withValues.GetProperty("items")[0].GetProperty("value").GetString());
    }

    [Fact]
    public async Task Ttl_expires_the_key_and_its_listing()
    {
        var client = As(Payers.NewAddress());
        var before = DateTimeOffset.UtcNow;
        var put = await JsonAsync(await PutAsync(client, "short", "soon gone", "?ttl=1"));
        await JsonAsync(await PutAsync(client, "long", "stays", "?ttl=3600"));
        await JsonAsync(await PutAsync(client, "forever", "stays"));

        var expiresAt = put.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt, before.AddMilliseconds(500), before.AddSeconds(3));
        Assert.Equal("soon gone", await client.GetStringAsync("/api/content/short", Ct));
        Assert.Equal(["forever", "long", "short"], await KeysAsync(client));

        await Task.Delay(TimeSpan.FromMilliseconds(1600), Ct);

        await ProblemAsync(await client.GetAsync("/api/content/short", Ct), HttpStatusCode.NotFound);
        Assert.Equal(["forever", "long"], await KeysAsync(client));
        await ProblemAsync(await client.DeleteAsync("/api/content/short", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Without_a_payer_context_every_content_route_is_401()
    {
        var client = _factory.CreateClient();
        await ProblemAsync(await client.GetAsync("/api/content", Ct), HttpStatusCode.Unauthorized);
        await ProblemAsync(await client.GetAsync("/api/content/a", Ct), HttpStatusCode.Unauthorized);
        await ProblemAsync(await PutAsync(client, "a", "x"), HttpStatusCode.Unauthorized);
        await ProblemAsync(await client.DeleteAsync("/api/content/a", Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Forged_or_expired_contexts_are_401()
    {
        var forger = new PayerContextSigner(Microsoft.Extensions.Options.Options.Create(
            new PayerContextOptions { SigningKey = "not-the-services-key-but-long-enough-0000" }), TimeProvider.System);
        var payer = Payers.NewAddress();
        var forged = forger.Sign(Payers.Context(payer));
        var expired = Payers.Signer.Sign(Payers.Context(payer) with { ExpiresAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 10 });

        foreach (var header in new[] { forged, expired, "v1.e30.e30" })
        {
            var client = _factory.CreateClient();
            client.DefaultRequestHeaders.Add(PayerContextSigner.HeaderName, header);
            await ProblemAsync(await PutAsync(client, "a", "x"), HttpStatusCode.Unauthorized);
        }
        Assert.Empty(await KeysAsync(As(payer)));
    }

    [Fact]
    public async Task Values_over_64_KiB_are_413_and_64_KiB_fits()
    {
        var client = As(Payers.NewAddress());
        Assert.Equal(65536, (await JsonAsync(await PutAsync(client, "big", new string('a', 65536)))).GetProperty("size").GetInt64());

        await ProblemAsync(await PutAsync(client, "big", new string('b', 65537)), HttpStatusCode.RequestEntityTooLarge);
        // Multi-byte characters count as their UTF-8 bytes.
        await ProblemAsync(await PutAsync(client, "big", new string('é', 40000)), HttpStatusCode.RequestEntityTooLarge);
        // A chunked body (no Content-Length) is cut off at the limit as well.
        var chunked = new StreamContent(new MemoryStream(new byte[70000]));
        using (var request = new HttpRequestMessage(HttpMethod.Put, "/api/content/big") { Content = chunked })
        {
            request.Headers.TransferEncodingChunked = true;
            await ProblemAsync(await client.SendAsync(request, Ct), HttpStatusCode.RequestEntityTooLarge);
        }

        Assert.Equal(new string('a', 65536), await client.GetStringAsync("/api/content/big", Ct));
    }

    [Theory]
    [InlineData("PUT", "/api/content/")]
    [InlineData("GET", "/api/content/has%20space")]
    [InlineData("GET", "/api/content/a//b")]
    [InlineData("PUT", "/api/content/a/")]
    [InlineData("PUT", "/api/content/%C3%A9t%C3%A9")]
    [InlineData("PUT", "/api/content/a?ttl=0")]
    [InlineData("PUT", "/api/content/a?ttl=-5")]
    [InlineData("PUT", "/api/content/a?ttl=1.5")]
    [InlineData("PUT", "/api/content/a?ttl=abc")]
    [InlineData("GET", "/api/content?limit=0")]
    [InlineData("GET", "/api/content?limit=101")]
    [InlineData("GET", "/api/content?limit=ten")]
    [InlineData("GET", "/api/content?keysOnly=maybe")]
    [InlineData("GET", "/api/content?prefix=%00")]
    [InlineData("GET", "/api/content?cursor=a%20b")]
    public async Task Bad_input_is_a_400_problem(string method, string url)
    {
        var client = As(Payers.NewAddress());
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "PUT" ? new StringContent("x") : null };
        await ProblemAsync(await client.SendAsync(request, Ct), HttpStatusCode.BadRequest);
        Assert.Empty(await KeysAsync(client));
    }

    [Fact]
    public async Task Too_long_key_is_400_and_256_characters_fit()
    {
        var client = As(Payers.NewAddress());
        await JsonAsync(await PutAsync(client, new string('k', 256), "x"));
        await ProblemAsync(await PutAsync(client, new string('k', 257), "x"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Invalid_utf8_is_400()
    {
        var client = As(Payers.NewAddress());
        using var response = await client.PutAsync("/api/content/bin", new ByteArrayContent([0xff, 0xfe, 0x00]), Ct);
        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Ping_is_free_and_payer_less()
    {
        var response = await _factory.CreateClient().GetAsync("/api/ping", Ct);
        Assert.True((await JsonAsync(response)).GetProperty("pong").GetBoolean());
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();
}
