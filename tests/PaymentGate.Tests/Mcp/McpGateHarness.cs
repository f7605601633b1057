using PaymentGate.Tests.Paywall;
using Sessions.Testing;

namespace PaymentGate.Tests.Mcp;

/// <summary>The gate (<see cref="PaywallHarness"/>) with a <see cref="FakeMcpServer"/> as its mcpserver, started and stopped together.</summary>
public sealed class McpGateHarness : IAsyncDisposable
{
    McpGateHarness(PaywallHarness gate, FakeMcpServer mcp) => (Gate, Mcp) = (gate, mcp);

    public PaywallHarness Gate { get; }
    public FakeMcpServer Mcp { get; }

    public static async Task<McpGateHarness> StartAsync(InfrastructureFixture infrastructure, Dictionary<string, string?>? extra = null)
    {
        var mcp = await FakeMcpServer.StartAsync();
        try
        {
            var settings = new Dictionary<string, string?>(extra ?? []) { ["services:mcpserver:http:0"] = mcp.Url };
            return new McpGateHarness(await PaywallHarness.StartAsync(infrastructure, settings), mcp);
        }
        catch
        {
            await mcp.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Gate.DisposeAsync();
        await Mcp.DisposeAsync();
    }
}
