using System.Text.Json.Nodes;

namespace AppHost.Tests;

/// <summary><c>dotnet run --project AppHost -- --publisher manifest --output-path ...</c>: the model for deployment, Redis and Postgres as containers.</summary>
public class ManifestTests
{
    [Fact]
    public async Task The_manifest_describes_every_resource_with_containers_for_the_servers()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Sessions.AppHost.Testing.TestStack.NewStateDirectory("manifest");
        var output = Path.Combine(folder, "aspire-manifest.json");
        await using (var appHost = AppHostProcess.Start("--publisher", "manifest", "--output-path", output, "--state-dir", Path.Combine(folder, "state")))
            Assert.True(await appHost.WaitForExitAsync(TimeSpan.FromSeconds(90)) && appHost.ExitCode == 0, appHost.Output);

        var resources = JsonNode.Parse(await File.ReadAllTextAsync(output, ct))!["resources"]!;
        Directory.Delete(folder, recursive: true);

        var redis = resources["redis"]!;
        Assert.Equal("container.v0", (string?)redis["type"]);
        Assert.StartsWith("{redis.bindings.tcp.host}:{redis.bindings.tcp.port}", (string?)redis["connectionString"]);
        Assert.Contains("{redis-password.value}", (string?)redis["connectionString"]);
        Assert.EndsWith("redis-data", (string?)redis["volumes"]![0]!["name"]);

        var postgres = resources["postgres"]!;
        Assert.Equal("container.v0", (string?)postgres["type"]);
        Assert.Equal("{postgres-password.value}", (string?)postgres["env"]!["POSTGRES_PASSWORD"]);
        Assert.EndsWith("postgres-data", (string?)postgres["volumes"]![0]!["name"]);
        Assert.Equal("value.v0", (string?)resources["sessionsdb"]!["type"]);
        Assert.Equal("{postgres.connectionString};Database=sessionsdb", (string?)resources["sessionsdb"]!["connectionString"]);

        var key = resources["payer-context-key"]!;
        Assert.Equal("parameter.v0", (string?)key["type"]);
        Assert.True((bool?)key["inputs"]!["value"]!["secret"]);
        Assert.Equal(32, (int?)key["inputs"]!["value"]!["default"]!["generate"]!["minLength"]);

        var gate = resources["paymentgate"]!;
        Assert.Equal("project.v0", (string?)gate["type"]);
        Assert.EndsWith("PaymentGate/PaymentGate.csproj", (string?)gate["path"]);
        var env = gate["env"]!;
        Assert.Equal("{sessionapi.bindings.http.url}", (string?)env["services__sessionapi__http__0"]);
        Assert.Equal("{gatedb.connectionString}", (string?)env["ConnectionStrings__gatedb"]);
        Assert.Equal("{redis.connectionString}", (string?)env["ConnectionStrings__redis"]);
        Assert.Equal("{payer-context-key.value}", (string?)env["PayerContext__SigningKey"]);
        Assert.Equal("{mpp-challenge-key.value}", (string?)env["Gate__Mpp__ChallengeKey"]);
        // Issue 19: the receipt signing key's secret (a generated, persisted parameter) and the admin key of GET /api/receipts.
        Assert.Equal("{receipt-signing-key.value}", (string?)env["Gate__Receipts__SigningKeys__0"]);
        Assert.True((bool?)resources["receipt-signing-key"]!["inputs"]!["value"]!["secret"]);
        Assert.Equal("{admin-key.value}", (string?)env["Gate__AdminKey"]);
        Assert.Null(env["OTEL_SERVICE_NAME"]);
        Assert.Equal(8402, (int?)gate["bindings"]!["http"]!["port"]);
        Assert.True((bool?)gate["bindings"]!["http"]!["external"]);
    }
}
