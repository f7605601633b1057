using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Sessions.AppHost.Servers;

/// <summary>
/// Containers or local processes for Redis and Postgres: <c>AppHost:Servers</c> (<c>container</c> or <c>local</c>) when set,
/// containers in publish mode, otherwise containers only when a container runtime (docker or podman) answers and holds
/// Redis and Postgres images (a runtime without them would wait for a pull that cannot happen without a registry).
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
        if (Run(runtime, "info") is null)
            return new(false, $"no container runtime answers ('{runtime} info'); AppHost:Servers=container to use one");
        var images = Run(runtime, "images --format {{.Repository}}")?.Split('\n', StringSplitOptions.TrimEntries) ?? [];
        bool Present(string key, string repository) => builder.Configuration[key] is { Length: > 0 } image
            ? Run(runtime, $"image inspect {image}") is not null
            : images.Contains(repository) || images.Contains($"docker.io/library/{repository}");
        return Present("AppHost:RedisImage", "redis") && Present("AppHost:PostgresImage", "postgres")
            ? new(true, $"the container runtime '{runtime}' answers and has Redis and Postgres images (AppHost:Servers=local to run local processes)")
            : new(false, $"the container runtime '{runtime}' answers but has no Redis and Postgres images; AppHost:Servers=container to pull them");
    }

    /// <summary>The command's output, or null when it fails, is missing or takes more than 5 s.</summary>
    static string? Run(string command, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (process.WaitForExit(TimeSpan.FromSeconds(5))) return process.ExitCode == 0 ? output.Result : null;
            process.Kill(entireProcessTree: true);
            return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }
}
