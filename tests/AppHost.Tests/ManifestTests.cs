using System.Text.Json.Nodes;
using Sessions.Hosting.Testing;

namespace AppHost.Tests;

/// <summary><c>--publisher manifest</c> describes the same model for deployment, in Aspire's manifest format.</summary>
public class ManifestTests
{
    [Fact]
    public async Task The_manifest_describes_every_resource_with_placeholders()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}", "aspire-manifest.json");
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--publisher", "manifest", "--output-path", output], ct);
        await using (var app = await builder.BuildAsync(ct))
            await app.StartAsync(ct);

        var resources = JsonNode.Parse(await File.ReadAllTextAsync(output, ct))!["resources"]!;
        Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);

        var redis = resources["redis"]!;
        Assert.Equal("container.v0", (string?)redis["type"]);
        Assert.Equal("{redis.bindings.tcp.host}:{redis.bindings.tcp.port},password={redis-password.value}", (string?)redis["connectionString"]);
        Assert.Equal(6379, (int?)redis["bindings"]!["tcp"]!["targetPort"]);
        Assert.Equal("redis-data", (string?)redis["volumes"]![0]!["name"]);

        var postgres = resources["postgres"]!;
        Assert.Equal("container.v0", (string?)postgres["type"]);
        Assert.Equal("{postgres-password.value}", (string?)postgres["env"]!["POSTGRES_PASSWORD"]);
        Assert.Equal("Host={postgres.bindings.tcp.host};Port={postgres.bindings.tcp.port};Username=postgres;Password={postgres-password.value}",
            (string?)postgres["connectionString"]);

        Assert.Equal("value.v0", (string?)resources["sessionsdb"]!["type"]);
        Assert.Equal("{postgres.connectionString};Database=sessionsdb", (string?)resources["sessionsdb"]!["connectionString"]);

        var key = resources["payer-context-key"]!;
        Assert.Equal("parameter.v0", (string?)key["type"]);
        Assert.Equal("{payer-context-key.inputs.value}", (string?)key["value"]);
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
        Assert.Equal("true", (string?)env["ASPNETCORE_FORWARDEDHEADERS_ENABLED"]);
        Assert.Equal("{paymentgate.bindings.http.targetPort}", (string?)env["HTTP_PORTS"]);
        Assert.Null(env["OTEL_SERVICE_NAME"]);
        Assert.Equal(8402, (int?)gate["bindings"]!["http"]!["port"]);
        Assert.True((bool?)gate["bindings"]!["http"]!["external"]);
    }
}
