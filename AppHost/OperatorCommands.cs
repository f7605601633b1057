using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sessions.AppHost.State;
using StackExchange.Redis;

namespace Sessions.AppHost;

/// <summary>
/// What an operator of this stack does, as dashboard commands on the resource it concerns (the resource's "..." menu);
/// tests run them with <c>app.ResourceCommands.ExecuteCommandAsync(resource, name)</c>.
/// </summary>
public static class OperatorCommands
{
    /// <summary>Hardhat's well-known test account #0 (README's examples pay with its key; local ledger only).</summary>
    public const string TestWallet = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    public const string FundTestWallet = "fund-test-wallet";
    public const string AuditLedger = "audit-ledger";
    public const string ShowAdminKey = "show-admin-key";
    public const string ResetData = "reset-data";

    /// <summary>Development: 1 USDC from the local facilitator's faucet to <see cref="TestWallet"/> (<c>POST /dev/faucet</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithFundTestWalletCommand(this IResourceBuilder<ProjectResource> gate) =>
        gate.WithCommand(FundTestWallet, "Fund the test wallet (1 USDC)", async context =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(gate.Resource.GetEndpoint("http").Url) };
            using var response = await http.PostAsJsonAsync("/dev/faucet", new { address = TestWallet, amount = "1000000" }, context.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
            return response.IsSuccessStatusCode
                ? CommandResults.Success($"Funded {TestWallet} with 1 USDC.", body, CommandResultFormat.Json)
                : CommandResults.Failure($"POST /dev/faucet answered {(int)response.StatusCode} (the faucet exists in Development only).", body, CommandResultFormat.Json);
        }, WhenRunning("Adds 1 USDC (1000000 atomic units) to Hardhat's test account #0 on the local ledger."));

    /// <summary>SessionApi's ledger reconcile (<c>GET /admin/audit</c> with the generated admin key).</summary>
    public static IResourceBuilder<ProjectResource> WithAuditLedgerCommand(this IResourceBuilder<ProjectResource> sessionApi, IResourceBuilder<ParameterResource> adminKey) =>
        sessionApi.WithCommand(AuditLedger, "Reconcile the ledger", async context =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(sessionApi.Resource.GetEndpoint("http").Url) };
            http.DefaultRequestHeaders.Add("X-Admin-Key", await adminKey.Resource.GetValueAsync(context.CancellationToken));
            using var response = await http.GetAsync("/admin/audit", context.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
            return response.IsSuccessStatusCode
                ? CommandResults.Success("Ledger audit report.", body, CommandResultFormat.Json)
                : CommandResults.Failure($"GET /admin/audit answered {(int)response.StatusCode}.", body, CommandResultFormat.Json);
        }, WhenRunning("Runs SessionApi's ledger audit: balances against the ledger entries."));

    /// <summary>Where the admin key of SessionApi's /admin endpoints is kept (never the key itself).</summary>
    public static IResourceBuilder<ProjectResource> WithShowAdminKeyCommand(this IResourceBuilder<ProjectResource> sessionApi, StateFolder state) =>
        sessionApi.WithCommand(ShowAdminKey, "Where is the admin key?", _ => Task.FromResult(CommandResults.Success(
            $"SessionApi's admin key (header X-Admin-Key) is \"admin-key\" in {state.ParametersFile}: jq -r '.\"admin-key\"' {state.ParametersFile}")),
            new CommandOptions { Description = "Shows the file that keeps SessionApi's admin key.", IconName = "Key" });

    /// <summary>
    /// Deletes every row and key: stops the services, recreates the databases and flushes Redis, starts the services again
    /// (their migrations rebuild the schema). Secrets stay (<c>--reset-state</c> also makes new ones).
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> WithResetDataCommand(this IResourceBuilder<IResourceWithConnectionString> postgres,
        IResourceBuilder<IResourceWithConnectionString> redis, params IResourceBuilder<IResourceWithConnectionString>[] databases) =>
        postgres.WithCommand(ResetData, "Reset all data", async context =>
        {
            var commands = context.Services.GetRequiredService<ResourceCommandService>();
            var projects = context.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>().ToList();
            foreach (var project in projects)
                await commands.ExecuteCommandAsync(project, KnownResourceCommands.StopCommand, context.CancellationToken);

            await using (var connection = new NpgsqlConnection(await postgres.Resource.GetConnectionStringAsync(context.CancellationToken) + ";Database=postgres;Pooling=false"))
            {
                await connection.OpenAsync(context.CancellationToken);
                foreach (var name in databases.Select(d => d.Resource.Name))
                {
                    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
                    await drop.ExecuteNonQueryAsync(context.CancellationToken);
                    await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                    await create.ExecuteNonQueryAsync(context.CancellationToken);
                }
            }
            await using (var multiplexer = await ConnectionMultiplexer.ConnectAsync(await redis.Resource.GetConnectionStringAsync(context.CancellationToken) + ",allowAdmin=true"))
                foreach (var server in multiplexer.GetServers())
                    await server.FlushAllDatabasesAsync();

            foreach (var project in projects)
                await commands.ExecuteCommandAsync(project, KnownResourceCommands.StartCommand, context.CancellationToken);
            return CommandResults.Success($"Recreated {string.Join(", ", databases.Select(d => d.Resource.Name))}, flushed Redis, started the services again.");
        }, WhenRunning("Stops the services, recreates every database, flushes Redis and starts the services again. Secrets stay.",
            confirmation: "Delete every session, vault, payment and key?"));

    static CommandOptions WhenRunning(string description, string? confirmation = null) => new()
    {
        Description = description,
        ConfirmationMessage = confirmation,
        UpdateState = context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
    };
}
