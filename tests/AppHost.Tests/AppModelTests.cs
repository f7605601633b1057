using Sessions.Hosting;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;
using Sessions.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>The model tests get is the one AppHost/Program.cs wires (no copy of the wiring here).</summary>
public class AppModelTests
{
    [Fact]
    public async Task The_testing_builder_holds_the_resources_program_cs_declares()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(TestContext.Current.CancellationToken);

        var resources = builder.Resources.ToDictionary(r => r.Name, r => r.GetType().Name);
        Assert.Equal(new Dictionary<string, string>
        {
            ["redis-password"] = nameof(ParameterResource),
            ["redis"] = nameof(RedisResource),
            ["postgres-password"] = nameof(ParameterResource),
            ["postgres"] = nameof(PostgresServerResource),
            ["sessionsdb"] = nameof(PostgresDatabaseResource),
            ["vaultsdb"] = nameof(PostgresDatabaseResource),
            ["gatedb"] = nameof(PostgresDatabaseResource),
            ["payer-context-key"] = nameof(ParameterResource),
            ["admin-key"] = nameof(ParameterResource),
            ["mpp-challenge-key"] = nameof(ParameterResource),
            ["sessionapi"] = nameof(ProjectResource),
            ["vaultapi"] = nameof(ProjectResource),
            ["mcpserver"] = nameof(ProjectResource),
            ["paymentgate"] = nameof(ProjectResource),
        }, resources);

        var gate = (ProjectResource)builder.Resources.Single(r => r.Name == "paymentgate");
        Assert.Equal(
            ["sessionapi", "vaultapi", "mcpserver", "postgres", "gatedb", "redis"],
            gate.OfAnnotation<WaitAnnotation>().Where(w => w.WaitType == WaitType.WaitUntilHealthy).Select(w => w.Resource.Name));
        var http = Assert.Single(gate.GetEndpointAnnotations());
        Assert.Equal((8402, true), (http.Port, http.IsExternal));
        Assert.True(File.Exists(gate.Metadata.TargetPath), "the gate is built with the AppHost");
        Assert.EndsWith("PaymentGate/PaymentGate.csproj", gate.Metadata.ProjectPath);

        foreach (var service in new[] { "sessionapi", "vaultapi", "mcpserver" })
        {
            var project = (ProjectResource)builder.Resources.Single(r => r.Name == service);
            Assert.Null(Assert.Single(project.GetEndpointAnnotations()).Port);
            Assert.Single(project.OfAnnotation<HealthCheckAnnotation>());
        }
    }

    [Fact]
    public async Task Stopping_goes_from_the_gate_to_the_services_to_the_servers()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(TestContext.Current.CancellationToken);
        await using var app = await builder.BuildAsync(TestContext.Current.CancellationToken);

        var groups = ResourceGraph.StopOrder(app.Model);
        int GroupOf(string name) => groups.Select((g, i) => (g, i)).Single(x => x.g.Any(r => r.Name == name)).i;

        Assert.Equal(["paymentgate"], groups[0].Select(r => r.Name));
        Assert.True(GroupOf("sessionapi") < GroupOf("sessionsdb"));
        Assert.True(GroupOf("sessionsdb") < GroupOf("postgres"));
        Assert.True(GroupOf("mcpserver") < GroupOf("redis"));
        Assert.True(GroupOf("vaultapi") < GroupOf("postgres"));
        Assert.True(GroupOf("sessionapi") < GroupOf("vaultapi"));   // SessionApi's vault provisioner references VaultApi
    }

    [Fact]
    public async Task The_gate_keeps_8402_unless_ports_are_randomized()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(TestContext.Current.CancellationToken);
        await using var app = await builder.BuildAsync(TestContext.Current.CancellationToken);

        ResourceGraph.AllocateEndpoints(app.Model, randomizePorts: false);
        Assert.Equal(8402, app.GetEndpoint("paymentgate").Port);

        ResourceGraph.AllocateEndpoints(app.Model, randomizePorts: true);
        var ports = new[] { "paymentgate", "sessionapi", "vaultapi", "mcpserver", "redis", "postgres" }.Select(n => app.GetEndpoint(n).Port).ToArray();
        Assert.DoesNotContain(8402, ports);
        Assert.Equal(ports.Length, ports.Distinct().Count());
    }

    [Fact]
    public void Command_line_switches_become_configuration()
    {
        Assert.Equal(
            ["--AppHost:ResetState=true", "--Publishing:Publisher=manifest", "--Publishing:OutputPath=out.json", "--AppHost:StateDirectory=/tmp/s", "--Other=1"],
            AppHostArguments.Normalize(["--reset-state", "--publisher", "manifest", "--output-path=out.json", "--state-dir", "/tmp/s", "--Other=1"]));
    }
}
