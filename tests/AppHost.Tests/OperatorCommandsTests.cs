using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Sessions.AppHost;
using Sessions.AppHost.Testing;

namespace AppHost.Tests;

/// <summary>The dashboard's operator commands, run as the dashboard runs them, against a stack of their own (reset wipes it).</summary>
public class OperatorCommandsTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fund_audit_admin_key_location_and_reset_do_what_they_say()
    {
        await using var stack = await TestStack.StartAsync(null, TimeSpan.FromSeconds(120), Ct);
        var app = stack.App;
        using var gate = app.CreateHttpClient("paymentgate");

        var funded = await app.ResourceCommands.ExecuteCommandAsync("paymentgate", OperatorCommands.FundTestWallet, Ct);
        Assert.True(funded.Success, funded.Message);
        Assert.Contains("\"balance\":\"1000000\"", await gate.GetStringAsync($"/dev/accounts/{OperatorCommands.TestWallet}", Ct));

        var audit = await app.ResourceCommands.ExecuteCommandAsync("sessionapi", OperatorCommands.AuditLedger, Ct);
        Assert.True(audit.Success, audit.Message);
        Assert.StartsWith("{", audit.Data?.Value);

        var key = await app.ResourceCommands.ExecuteCommandAsync("sessionapi", OperatorCommands.ShowAdminKey, Ct);
        Assert.True(key.Success);
        Assert.Contains(Path.Combine(stack.StateDirectory, "parameters.json"), key.Message);

        var reset = await app.ResourceCommands.ExecuteCommandAsync("postgres", OperatorCommands.ResetData, Ct);
        Assert.True(reset.Success, reset.Message);
        foreach (var service in TestStack.Services)
            await stack.WaitForHealthyAsync(service, TimeSpan.FromSeconds(90), Ct);
        using var after = app.CreateHttpClient("paymentgate");
        Assert.Contains("\"balance\":\"0\"", await after.GetStringAsync($"/dev/accounts/{OperatorCommands.TestWallet}", Ct));
    }
}
