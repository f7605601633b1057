using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Sessions.AppHost.Servers;

/// <summary>
/// Containers or local processes for Redis and Postgres: <c>AppHost:Servers</c> (<c>container</c> or <c>local</c>) when set,
/// containers in publish mode, otherwise containers only when a container runtime (docker or podman) answers.
/// </summary>
public sealed record ServerMode(bool UseContainers, string Reason)
{
    static readonly ConditionalWeakTable<IDistributedApplicationBuilder, ServerMode> Modes = [];

    public static ServerMode Of(IDistributedApplicationBuilder builder) => Modes.GetValue(builder, Choose);

    static ServerMode Choose(IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode) return new(true, "publish mode writes container resources");
        switch (builder.Configuration["AppHost:Servers"]?.ToLowerInvariant())
        {
            case "container": return new(true, "AppHost:Servers=container");
            case "local": return new(false, "AppHost:Servers=local");
        }
        var runtime = builder.Configuration["DcpPublisher:ContainerRuntime"] ?? "docker";
        return RuntimeAnswers(runtime)
            ? new(true, $"the container runtime '{runtime}' answers (AppHost:Servers=local to run local processes)")
            : new(false, $"no container runtime answers ('{runtime} info'); AppHost:Servers=container to use one");
    }

    static bool RuntimeAnswers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null) return false;
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (process.WaitForExit(TimeSpan.FromSeconds(5))) return process.ExitCode == 0;
            process.Kill(entireProcessTree: true);
            return false;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
