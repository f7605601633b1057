using Sessions.AppHost.State;

namespace AppHost.Tests;

/// <summary>The AppHost's own switches and its state folder.</summary>
public class AppHostTests
{
    [Fact]
    public void Command_line_switches_become_configuration_and_stopping_waits_for_dcp()
    {
        Assert.Equal(
            ["--AppHost:ResetState=true", "--publisher", "manifest", "--AppHost:StateDirectory=/tmp/s", "--DcpPublisher:RandomizePorts=true", "--Other=1", "--DcpPublisher:WaitForResourceCleanup=true"],
            AppHostArguments.Normalize(["--reset-state", "--publisher", "manifest", "--state-dir", "/tmp/s", "--randomize-ports", "--Other=1"]));
        Assert.Equal(["--DcpPublisher:WaitForResourceCleanup=false"], AppHostArguments.Normalize(["--DcpPublisher:WaitForResourceCleanup=false"]));
    }

    [Fact]
    public async Task Reset_state_refuses_a_folder_that_holds_source()
    {
        var root = Sessions.AppHost.Testing.TestStack.NewStateDirectory("apphost-src");
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, "Some.csproj"), "<Project />", TestContext.Current.CancellationToken);
        try
        {
            await Assert.ThrowsAsync<Aspire.Hosting.DistributedApplicationException>(() =>
                Sessions.AppHost.Testing.TestStack.CreateBuilderAsync(root, TestContext.Current.CancellationToken, "--reset-state"));
            Assert.True(File.Exists(Path.Combine(root, "Some.csproj")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
