// The .NET MCP agent of the interop tests, as an agent writes it: one HttpClient per way of paying (AddPaymentHandler), the
// SDK's McpClient over it through the gate's /mcp, priced tools paid by McpToolPayer with the handler's signer and ledger.
// put-content with x402 in _meta, get-content with MPP, session-status (free) untouched, then a session opened by a REST read
// pays three get-content calls by its token alone and is closed with its refund.
// Env: GATE_URL, PRIVATE_KEY. Prints one JSON line.
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Sessions.Client;
using Sessions.Client.Mcp;
using Sessions.Payments;

var gate = new Uri(Environment.GetEnvironmentVariable("GATE_URL")!.TrimEnd('/') + "/");
var key = Environment.GetEnvironmentVariable("PRIVATE_KEY")!;
var mcpEndpoint = new Uri(gate, "mcp");
var contentKey = $"dotnet-mcp-{Guid.NewGuid():N}";
var value = $"written over MCP from .NET {DateTimeOffset.UtcNow:O}";

var services = new ServiceCollection();
void AddPayingClient(string name, Action<PaymentClientOptions> configure) =>
    services.AddHttpClient(name, client => client.BaseAddress = gate).AddPaymentHandler(options =>
    {
        options.Signer = new LocalKeySigner(key);
        options.SpendPolicy = new SpendPolicy { MaxPerPayment = new AtomicAmount(100_000) };
        configure(options);
    });
AddPayingClient("x402", _ => { });
AddPayingClient("mpp", options => options.Protocols = [PaymentProtocol.Mpp]);
AddPayingClient("session", options => options.Sessions = new SessionOptions { Deposit = new AtomicAmount(100_000) });
await using var provider = services.BuildServiceProvider();
var factory = provider.GetRequiredService<IHttpClientFactory>();

async Task<McpClient> ConnectAsync(string name) =>
    await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = mcpEndpoint }, factory.CreateClient(name)));

McpToolPayer Payer(string name) => McpToolPayer.ForHttpClient(provider, name, mcpEndpoint);

var output = new JsonObject { ["key"] = contentKey, ["value"] = value };
await using (var x402 = await ConnectAsync("x402"))
{
    output["tools"] = new JsonArray([.. (await x402.ListToolsAsync()).Select(t => JsonValue.Create(t.Name))]);
    output["put"] = Summary(await x402.CallPaidToolAsync(Payer("x402"), "put-content", new Dictionary<string, object?> { ["key"] = contentKey, ["value"] = value }));
    output["free"] = Summary(await x402.CallPaidToolAsync(Payer("x402"), "session-status"));
}
await using (var mpp = await ConnectAsync("mpp"))
    output["get"] = Summary(await mpp.CallPaidToolAsync(Payer("mpp"), "get-content", new Dictionary<string, object?> { ["key"] = contentKey }));

// The session: the REST read's 402 opens it (the deposit is its one payment); the MCP transport then carries its token.
using (var read = await factory.CreateClient("session").GetAsync($"api/content/{Uri.EscapeDataString(contentKey)}"))
    output["sessionRead"] = new JsonObject { ["status"] = (int)read.StatusCode, ["paid"] = read.GetPaymentResult() is not null };
await using (var bySession = await ConnectAsync("session"))
{
    var calls = new JsonArray();
    for (var i = 0; i < 3; i++)
        calls.Add(Summary(await bySession.CallPaidToolAsync(Payer("session"), "get-content", new Dictionary<string, object?> { ["key"] = contentKey })));
    output["sessionCalls"] = calls;
    output["sessionStatus"] = Summary(await bySession.CallPaidToolAsync(Payer("session"), "session-status"));
}
var closed = (await provider.GetRequiredKeyedService<PaymentSessions>("session").CloseAllAsync()).Single();
output["sessionClosed"] = new JsonObject { ["id"] = closed.Id, ["refunded"] = closed.Refunded.ToString(), ["method"] = closed.Method };
Console.WriteLine(output.ToJsonString());

static JsonObject Summary(PaidToolResult paid) => new()
{
    ["isError"] = paid.Result.IsError == true,
    ["text"] = paid.Result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text,
    ["structuredContent"] = paid.Result.StructuredContent is { } structured ? JsonSerializer.SerializeToNode(structured) : null,
    ["payment"] = paid.Payment is not { } payment ? null : new JsonObject
    {
        ["protocol"] = payment.Protocol.ToString(), ["amount"] = payment.Amount.ToString(), ["settled"] = payment.Settled,
        ["transaction"] = payment.Transaction, ["payer"] = payment.Payer.ToString(), ["receipt"] = payment.Receipt is not null,
    },
};
