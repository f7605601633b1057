using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Sessions.AppHost.Testing;

namespace Interop.Tests;

/// <summary>
/// The whole stack (Redis, Postgres, the services and the gate), started once for the assembly from the AppHost's
/// Program.cs through Aspire.Hosting.Testing, on random ports with a temporary state folder (<see cref="TestStack"/>). Set <c>SESSIONS_INTEROP_GATE_URL</c> to run against a stack that is already running
/// (e.g. <c>AppHost/run.sh</c>, gate at http://localhost:8402) instead.
/// Node.js is checked first: without it every test fails with the reason, nothing is skipped silently.
/// </summary>
public sealed class StackFixture : IAsyncLifetime
{
    static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(60);
    static readonly TimeSpan ServiceTimeout = TimeSpan.FromSeconds(120);

    TestStack? _stack;
    DistributedApplication? _app;

    /// <summary>The gate's real base URL (no trailing slash), to hand to the Node scripts.</summary>
    public string GateUrl { get; private set; } = "";

    public HttpClient Gate { get; private set; } = new();

    public NodeRunner Node { get; } = new();

    /// <summary>VaultApi's retention in this stack (the default is 30 days).</summary>
    public static readonly TimeSpan VaultRetention = TimeSpan.FromSeconds(15);

    /// <summary>The demo organisation's Solana payTo on the test stack (an owner whose associated token account receives).</summary>
    public const string SolanaMerchant = "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu";

    /// <summary>The running application (null when the stack is external): resource states, commands, logs.</summary>
    public DistributedApplication? App => _app;

    /// <summary>SIGKILLs a service's process, as a crash would, and waits until the AppHost sees it exited.</summary>
    public async Task KillAsync(string resource, CancellationToken cancellationToken)
    {
        var app = _app ?? throw new InvalidOperationException("Killing a service needs the stack started by the test.");
        // A project runs as `dotnet run` with the service as its child: the whole tree goes, as in a crash of the machine's service.
        var pid = _stack!.Pid(resource) ?? throw new InvalidOperationException($"{resource} has no process");
        using (var process = System.Diagnostics.Process.GetProcessById(pid))
            process.Kill(entireProcessTree: true);
        await app.ResourceNotifications.WaitForResourceAsync(resource, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken)
            .WaitAsync(ServerTimeout, cancellationToken);
    }

    /// <summary>Starts a stopped or killed service again (Aspire's resource-start command) and waits until it is healthy.</summary>
    public async Task StartAgainAsync(string resource, CancellationToken cancellationToken)
    {
        var app = _app ?? throw new InvalidOperationException("Starting a service needs the stack started by the test.");
        var started = await app.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, cancellationToken);
        Assert.True(started.Success, started.Message);
        // Past the old Exited state first: waiting for "healthy" on a terminal state gives up at once.
        await app.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.Running, cancellationToken)
            .WaitAsync(ServiceTimeout, cancellationToken);
        await _stack!.WaitForHealthyAsync(resource, ServiceTimeout, cancellationToken);
    }

    /// <summary>A database's connection string, for direct checks (null when the stack is external).</summary>
    public async Task<string?> ConnectionStringAsync(string database, CancellationToken cancellationToken) =>
        _app is null ? null : await _app.GetConnectionStringAsync(database, cancellationToken);

    public async ValueTask InitializeAsync()
    {
        Node.EnsureAvailable();
        var external = Environment.GetEnvironmentVariable("SESSIONS_INTEROP_GATE_URL");
        if (!string.IsNullOrEmpty(external))
        {
            GateUrl = external.TrimEnd('/');
        }
        else
        {
            // Vault retention in seconds, so that VaultsTests sees a vault reported and deleted within the run.
            // The demo organisation also takes Solana payments (SvmClientTests): its 402s list the SVM requirement after the EVM one.
            _stack = await TestStack.StartAsync(builder =>
            {
                builder.CreateResourceBuilder<ProjectResource>("vaultapi")
                    .WithEnvironment("VaultApi__DefaultRetention", VaultRetention.ToString("c", System.Globalization.CultureInfo.InvariantCulture))
                    .WithEnvironment("VaultApi__ExpiringNotice", "00:00:05")
                    .WithEnvironment("VaultApi__SweepInterval", "00:00:01");
                builder.CreateResourceBuilder<ProjectResource>("paymentgate")
                    .WithEnvironment("Gate__Organizations__demo__Solana__PayTo", SolanaMerchant);
            }, ServiceTimeout, TestContext.Current.CancellationToken);
            _app = _stack.App;
            GateUrl = _app.GetEndpoint("paymentgate").ToString().TrimEnd('/');
        }
        Gate = new HttpClient { BaseAddress = new Uri(GateUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A fresh wallet funded through the gate's development faucet.</summary>
    public async Task<Wallet> FundedWalletAsync(long amount, CancellationToken cancellationToken)
    {
        var wallet = Wallet.Create();
        using var response = await Gate.PostAsJsonAsync("dev/faucet",
            new { address = wallet.Address, amount = amount.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"POST /dev/faucet answered {(int)response.StatusCode}: {body}{TailOfLogs("paymentgate")}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(amount.ToString(System.Globalization.CultureInfo.InvariantCulture), json.RootElement.GetProperty("balance").GetString());
        return wallet;
    }

    /// <summary><c>GET /dev/accounts/{address}</c>: the simulated token's balance and transfers.</summary>
    public async Task<LedgerAccount> AccountAsync(string address, CancellationToken cancellationToken)
    {
        using var response = await Gate.GetAsync($"dev/accounts/{address}", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET /dev/accounts/{address} answered {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<LedgerAccount>(body, JsonSerializerOptions.Web)!;
    }

    /// <summary>Runs a tests/Interop script against this stack; a failure carries the last output of the gate and mcpserver.</summary>
    public async Task<JsonElement> RunScriptAsync(string script, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        try
        {
            return await Node.RunScriptAsync(script, environment, cancellationToken);
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException or TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}{TailOfLogs("paymentgate")}{TailOfLogs("mcpserver", 15)}");
        }
    }

    /// <summary>Output of a resource (for failure messages); empty when the stack is external.</summary>
    public string TailOfLogs(string resource, int lines = 40) => _stack?.TailOfLogs(resource, lines) ?? "";

    public async ValueTask DisposeAsync()
    {
        Gate.Dispose();
        if (_stack is not null) await _stack.DisposeAsync();
    }
}

public sealed record LedgerAccount(string Address, string Balance, IReadOnlyList<LedgerTransfer> Transfers);

public sealed record LedgerTransfer(long Id, string Kind, string From, string To, string Value, string? Nonce, string? Transaction);
