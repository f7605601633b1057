using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.Testing;

namespace PaymentGate.Tests.Pricing;

// Discovery (issue 18): GET /openapi/v1.json is the gate's public surface, every proxied route with the price the 402 asks;
// the Scalar API reference only in Development.
public sealed partial class OpenApiDocumentTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly string[] AnyMethod = ["get", "post", "put", "patch", "delete"];

    [Fact]
    public async Task Document_is_valid_openapi_3_and_free()
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);

        using var response = await gate.Http.GetAsync("/openapi/v1.json", Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);   // a gate endpoint: no 402
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("3.", JsonDocument.Parse(text).RootElement.GetProperty("openapi").GetString());
        var read = OpenApiDocument.Parse(text, "json");
        Assert.Empty(read.Diagnostic!.Errors);
        Assert.Empty(read.Document!.Validate(ValidationRuleSet.GetDefaultRuleSet())!);
    }

    [Fact]
    public async Task Every_route_is_listed_with_the_price_of_the_catalog_and_of_the_402()
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);
        var catalog = gate.Factory.Services.GetRequiredService<PricingCatalog>();
        var pricing = await gate.Http.GetFromJsonAsync<JsonElement>("/api/pricing", Ct);
        var paths = (await DocumentAsync(gate.Http)).GetProperty("paths");

        Assert.Equal(catalog.Routes.Count, pricing.GetProperty("routes").GetArrayLength());
        foreach (var (route, listed) in catalog.Routes.Zip(pricing.GetProperty("routes").EnumerateArray()))
        {
            var item = PathItem(paths, route.Path);
            foreach (var method in route.Method.Length == 0 ? AnyMethod : [route.Method.ToLowerInvariant()])
            {
                // GET /api/sessions/{id} is the gate's own endpoint, which wins over the built-in /api/sessions/{**rest} route.
                if (route.Path == "/api/sessions/{**rest}" && method == "get")
                    continue;
                Assert.True(item.TryGetProperty(method, out var operation), $"{method} {route.Path} missing");
                if (route.Mcp)
                {
                    var mcp = operation.GetProperty("x-payment");
                    Assert.Equal(route.Organization!.PayTo.ToString(), mcp.GetProperty("payTo").GetString());
                    Assert.True(mcp.GetProperty("perTool").GetBoolean());
                }
                else if (route.IsFree)
                {
                    Assert.False(operation.TryGetProperty("x-payment", out _), $"{method} {route.Path} is free");
                    Assert.False(operation.GetProperty("responses").TryGetProperty("402", out _));
                }
                else
                {
                    var payment = operation.GetProperty("x-payment");
                    Assert.Equal(route.Amount.ToString(), payment.GetProperty("amount").GetString());
                    Assert.Equal(listed.GetProperty("price").GetString(), payment.GetProperty("price").GetString());
                    Assert.Equal(listed.GetProperty("payTo").GetString(), payment.GetProperty("payTo").GetString());
                    Assert.Equal(listed.GetProperty("asset").GetString(), payment.GetProperty("asset").GetString());
                    Assert.Equal(listed.GetProperty("network").GetString(), payment.GetProperty("network").GetString());
                    Assert.Equal(["x402 exact v2", "x402 exact v1", "mpp evm charge"],
                        payment.GetProperty("schemes").EnumerateArray().Select(s => s.GetString()));
                    Assert.True(operation.GetProperty("responses").TryGetProperty("402", out _));
                }
            }
        }

        // What the document says is what a 402 asks.
        var (offer, _) = await gate.OfferAsync(HttpMethod.Put, "/api/content/notes/a");
        var put = paths.GetProperty("/api/content/{key}").GetProperty("put").GetProperty("x-payment");
        Assert.Equal("10000", put.GetProperty("amount").GetString());
        Assert.Equal("$0.01", put.GetProperty("price").GetString());
        Assert.Equal(offer.Accepts.Single().Amount, put.GetProperty("amount").GetString());
        Assert.Equal(offer.Accepts.Single().PayTo, put.GetProperty("payTo").GetString());
        var key = Assert.Single(paths.GetProperty("/api/content/{key}").GetProperty("put").GetProperty("parameters").EnumerateArray());
        Assert.Equal("path", key.GetProperty("in").GetString());
    }

    [Fact]
    public async Task Mcp_route_lists_the_prices_of_its_tools_and_sessions_when_the_gate_has_SessionApi()
    {
        await using var mcp = await PaymentGate.Tests.Mcp.FakeMcpServer.StartAsync();
        await using var gate = await PaywallHarness.StartAsync(infrastructure, new()
        {
            ["services:mcpserver:http:0"] = mcp.Url,
            ["services:sessionapi:http:0"] = mcp.Url,   // only its presence matters here
        });

        var paths = (await DocumentAsync(gate.Http)).GetProperty("paths");
        var payment = paths.GetProperty("/mcp").GetProperty("post").GetProperty("x-payment");
        var tools = payment.GetProperty("tools").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);

        Assert.Equal(["fail-tool", "get-content", "put-content", "session-status"], tools.Keys.Order());
        Assert.Equal(("10000", "$0.01"), (tools["put-content"].GetProperty("amount").GetString(), tools["put-content"].GetProperty("price").GetString()));
        Assert.False(tools["session-status"].GetProperty("paid").GetBoolean());
        Assert.True(payment.GetProperty("sessions").GetBoolean());
        Assert.True(paths.GetProperty("/api/content/{key}").GetProperty("get").GetProperty("x-payment").GetProperty("sessions").GetBoolean());
    }

    [Fact]
    public async Task Gate_endpoints_are_listed_and_internal_ones_are_not()
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);

        var paths = (await DocumentAsync(gate.Http)).GetProperty("paths");
        var names = paths.EnumerateObject().Select(p => p.Name).ToList();

        Assert.Contains("/api/pricing", names);
        Assert.Contains("/api/sessions", names);
        Assert.Contains("/api/sessions/{id}/topup", names);
        Assert.Contains("/api/sessions/{id}/close", names);
        Assert.Contains("/api/mandates", names);
        Assert.Contains("/api/approvals/{id}/approve", names);
        Assert.Contains("/dev/faucet", names);   // Development
        Assert.DoesNotContain(names, n => n.StartsWith("/internal", StringComparison.Ordinal) || n.StartsWith("/facilitator", StringComparison.Ordinal));
        Assert.False(paths.GetProperty("/api/pricing").GetProperty("get").TryGetProperty("x-payment", out _));
        // Opening and topping up a session are paid: the amount is the request's.
        var open = paths.GetProperty("/api/sessions").GetProperty("post");
        Assert.Equal("deposit", open.GetProperty("x-payment").GetProperty("amountFrom").GetString());
        Assert.Equal("demo", open.GetProperty("x-payment").GetProperty("organization").GetString());
        Assert.True(open.GetProperty("responses").TryGetProperty("402", out _));
        Assert.Equal("amount", paths.GetProperty("/api/sessions/{id}/topup").GetProperty("post").GetProperty("x-payment").GetProperty("amountFrom").GetString());
    }

    [Theory]
    [InlineData("/scalar")]
    [InlineData("/scalar/v1")]
    public async Task Scalar_reference_is_served_in_Development(string path)
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);

        using var response = await gate.Http.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Production_has_the_document_without_dev_endpoints_and_no_Scalar()
    {
        await using var gate = new GateFactory(new Dictionary<string, string?>
        {
            ["ConnectionStrings:gatedb"] = await infrastructure.CreateDatabaseAsync("gatedb"),
            ["PayerContext:SigningKey"] = new string('k', 48),
            ["Facilitator:Mode"] = "local",
            ["Facilitator:Local:Faucet"] = "true",   // /dev/* mapped, yet not published
        }, "Production");
        var http = gate.CreateClient();

        using var scalar = await http.GetAsync("/scalar", Ct);
        var paths = (await DocumentAsync(http)).GetProperty("paths");

        Assert.Equal(HttpStatusCode.NotFound, scalar.StatusCode);
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.StartsWith("/dev", StringComparison.Ordinal));
        Assert.True(paths.TryGetProperty("/api/content/{key}", out _));
    }

    static async Task<JsonElement> DocumentAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/openapi/v1.json", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    /// <summary>The path item of a route template: same segments, parameter names aside (<c>{**key}</c> is <c>{key}</c>).</summary>
    static JsonElement PathItem(JsonElement paths, string template)
    {
        var signature = Parameter().Replace(template, "{}");
        var matches = paths.EnumerateObject().Where(p => Parameter().Replace(p.Name, "{}") == signature).ToList();
        Assert.True(matches.Count == 1, $"{template}: {matches.Count} path items");
        return matches[0].Value;
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Parameter();
}
