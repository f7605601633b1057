using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sessions.Hosting;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;
using Sessions.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>State machine, waits, values and state folder, without starting the stack.</summary>
public class HostingModelTests
{
    static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Waiting_for_healthy_needs_running_and_healthy()
    {
        var (service, notifications) = OneResource();
        var wait = notifications.WaitForResourceHealthyAsync("a", TestContext.Current.CancellationToken);

        await notifications.PublishUpdateAsync(service, s => s with { State = KnownResourceStates.Starting });
        await notifications.PublishUpdateAsync(service, s => s with { State = KnownResourceStates.Running, HealthStatus = HealthStatus.Unhealthy });
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);

        await notifications.PublishUpdateAsync(service, s => s with { HealthStatus = HealthStatus.Healthy });
        var resourceEvent = await wait.WaitAsync(Soon, TestContext.Current.CancellationToken);
        Assert.Equal(KnownResourceStates.Running, resourceEvent.Snapshot.State);
    }

    [Theory]
    [InlineData(KnownResourceStates.FailedToStart)]
    [InlineData(KnownResourceStates.Exited)]
    [InlineData(KnownResourceStates.Finished)]
    public async Task A_headless_wait_stops_when_the_resource_ends(string terminalState)
    {
        var (service, notifications) = OneResource();
        var wait = notifications.WaitForResourceHealthyAsync("a", WaitBehavior.StopOnResourceUnavailable, TestContext.Current.CancellationToken);

        await notifications.PublishUpdateAsync(service, s => s with { State = terminalState, ExitCode = 1 });

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => wait.WaitAsync(Soon, TestContext.Current.CancellationToken));
        Assert.Contains("failed to start", error.Message);
    }

    [Fact]
    public async Task An_interactive_wait_outlives_a_failure_and_completes_when_the_resource_comes_back()
    {
        var (service, notifications) = OneResource();
        var wait = notifications.WaitForResourceHealthyAsync("a", WaitBehavior.WaitOnResourceUnavailable, TestContext.Current.CancellationToken);

        await notifications.PublishUpdateAsync(service, s => s with { State = KnownResourceStates.Exited, ExitCode = 137 });
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);

        await notifications.PublishUpdateAsync(service, s => s with { State = KnownResourceStates.Running, HealthStatus = HealthStatus.Healthy });
        await wait.WaitAsync(Soon, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_wait_sees_the_current_state_and_rejects_unknown_names()
    {
        var (service, notifications) = OneResource();
        await notifications.PublishUpdateAsync(service, s => s with { State = KnownResourceStates.Running });

        Assert.Equal(KnownResourceStates.Running, await notifications.WaitForResourceAsync("a", cancellationToken: TestContext.Current.CancellationToken).WaitAsync(Soon, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentException>(() => notifications.WaitForResourceAsync("nope", cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_resource_waiting_for_a_failed_dependency_fails_to_start_and_the_test_fails_fast()
    {
        var ct = TestContext.Current.CancellationToken;
        var state = Path.Combine(Path.GetTempPath(), $"apphost-unit-{Guid.NewGuid():N}");
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = [$"--state-dir={state}", "--headless", "--randomize-ports"],
        });
        var broken = builder.AddProject<MissingProject>("broken");
        builder.AddProject<MissingProject>("dependent").WaitFor(broken);
        await using var app = builder.Build();
        try
        {
            await app.StartAsync(ct);

            var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.WaitForResourceHealthyAsync("dependent", TimeSpan.FromSeconds(20), ct));
            Assert.Contains("FailedToStart", error.Message);
            await app.ResourceNotifications.WaitForResourceAsync("dependent", KnownResourceStates.FailedToStart, ct).WaitAsync(Soon, ct);
            var log = app.ResourceLogs.GetLines("dependent").Select(l => l.Content).ToArray();
            Assert.Contains("Waiting for resource 'broken' to enter the 'Running' state.", log);
            Assert.Contains(log, l => l.Contains("Dependency 'broken' is FailedToStart"));
        }
        finally
        {
            await app.DisposeAsync();
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public void Generated_parameters_are_kept_until_the_state_is_reset()
    {
        var root = Path.Combine(Path.GetTempPath(), $"apphost-state-{Guid.NewGuid():N}");
        try
        {
            var state = new StateFolder(new AppHostOptions { StateDirectory = root }, "/");
            state.Prepare(reset: false);
            Assert.Equal("one", state.GetOrAddParameter("key", () => "one"));
            Assert.Equal("one", new StateFolder(new AppHostOptions { StateDirectory = root }, "/").GetOrAddParameter("key", () => "two"));

            state.Prepare(reset: true);
            Assert.Equal("three", state.GetOrAddParameter("key", () => "three"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Reset_refuses_a_folder_that_holds_source()
    {
        var root = Path.Combine(Path.GetTempPath(), $"apphost-src-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "Some.csproj"), "<Project />");
        try
        {
            var state = new StateFolder(new AppHostOptions { StateDirectory = root }, "/");
            Assert.Throws<InvalidOperationException>(() => state.Prepare(reset: true));
            Assert.True(File.Exists(Path.Combine(root, "Some.csproj")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Generated_values_have_the_asked_length_and_characters()
    {
        var value = new GenerateParameterDefault { MinLength = 32, Special = false }.GetDefaultValue();
        Assert.Matches("^[A-Za-z0-9]{32}$", value);
        Assert.NotEqual(value, new GenerateParameterDefault { MinLength = 32, Special = false }.GetDefaultValue());
    }

    [Fact]
    public async Task A_reference_expression_evaluates_to_values_or_to_manifest_placeholders()
    {
        var password = new ParameterResource("pw", _ => "a b/c", secret: true);
        var expression = ReferenceExpression.Create($"redis://:{password:uri}@{{literal}}/{password}");

        Assert.Equal("redis://:a%20b%2Fc@{literal}/a b/c", await expression.GetValueAsync(TestContext.Current.CancellationToken));
        Assert.Equal("redis://:{pw.value}@{literal}/{pw.value}", expression.ValueExpression);
    }

    static (IResource, ResourceNotificationService) OneResource()
    {
        var resource = new ProjectResource("a");
        return (resource, new ResourceNotificationService(new DistributedApplicationModel([resource])));
    }

    sealed class MissingProject : IProjectMetadata
    {
        public string ProjectPath => "/nonexistent/Missing/Missing.csproj";
        public string TargetPath => "/nonexistent/Missing/bin/Missing.dll";
    }
}
