using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Local;

namespace Sessions.Hosting.Orchestration;

internal sealed record RunContext(StateFolder State, AppHostOptions Options, ResourceEnvironment Environment, ResourceLoggerService Logs, string? Configuration);

/// <summary>Starts the process behind one resource: a local server for a container-shaped resource, <c>dotnet</c> for a project.</summary>
internal abstract class ResourceRunner
{
    public static ResourceRunner? For(IResource resource) => resource switch
    {
        RedisResource redis => new RedisRunner(redis),
        PostgresServerResource postgres => new PostgresRunner(postgres),
        ProjectResource project => new ProjectRunner(project),
        _ => null,
    };

    public abstract Task<ManagedProcess> StartAsync(RunContext context, CancellationToken cancellationToken);

    protected static Action<string, bool> LogTo(RunContext context, IResource resource)
        => (line, isError) => context.Logs.Log(resource.Name, line, isError);

    protected static int AllocatedPort(IResourceWithEndpoints resource, string endpointName)
        => new EndpointReference(resource, endpointName).Port;

    /// <summary>The data folder: the named volume in the state folder, or scratch space for this run only.</summary>
    protected static string DataDirectory(RunContext context, IResource resource)
        => resource.TryGetLastAnnotation<DataVolumeAnnotation>(out var volume)
            ? context.State.VolumePath(volume.Name)
            : context.State.ScratchPath(resource.Name);
}

internal sealed class RedisRunner(RedisResource redis) : ResourceRunner
{
    public override Task<ManagedProcess> StartAsync(RunContext context, CancellationToken cancellationToken)
    {
        var options = new LocalRedisOptions
        {
            Password = redis.PasswordParameter?.Value,
            // Without a data volume nothing is saved, as with a container without one.
            DataDirectory = redis.TryGetLastAnnotation<DataVolumeAnnotation>(out _) ? DataDirectory(context, redis) : null,
            OnOutput = LogTo(context, redis),
        };
        var spec = LocalRedisServer.CreateSpec(options, AllocatedPort(redis, RedisResource.PrimaryEndpointName)) with { NewSession = true };
        return Task.FromResult(ManagedProcess.Start(spec));
    }
}

internal sealed class PostgresRunner(PostgresServerResource postgres) : ResourceRunner
{
    public override async Task<ManagedProcess> StartAsync(RunContext context, CancellationToken cancellationToken)
    {
        var options = new LocalPostgresOptions
        {
            DataDirectory = DataDirectory(context, postgres),
            Password = postgres.PasswordParameter.Value,
            UserName = postgres.UserName,
            Ephemeral = context.Options.EphemeralState,
            OnOutput = LogTo(context, postgres),
        };
        // As root, initdb and postgres run as the postgres user, which must be able to reach the folder.
        StateFolder.CreateReachable(Path.GetDirectoryName(options.DataDirectory)!);
        if (!File.Exists(Path.Combine(options.DataDirectory, "PG_VERSION")))
            context.Logs.Log(postgres.Name, $"Initializing a new cluster in {options.DataDirectory}.");
        await LocalPostgresServer.InitializeAsync(options, cancellationToken).ConfigureAwait(false);
        var spec = LocalPostgresServer.CreateSpec(options, AllocatedPort(postgres, PostgresServerResource.PrimaryEndpointName)) with { NewSession = true };
        return ManagedProcess.Start(spec);
    }
}

/// <summary>
/// Runs the built assembly with <c>dotnet &lt;TargetPath&gt;</c> from the project folder: the same process
/// <c>dotnet run --no-build --no-launch-profile</c> would end up running, without the CLI in between, so
/// the pid is the app's and SIGTERM reaches it directly.
/// </summary>
internal sealed class ProjectRunner(ProjectResource project) : ResourceRunner
{
    public override async Task<ManagedProcess> StartAsync(RunContext context, CancellationToken cancellationToken)
    {
        foreach (var endpoint in project.GetEndpointAnnotations())
            EnsurePortIsFree(endpoint);

        var metadata = project.Metadata;
        var targetPath = metadata.TargetPath ?? await QueryTargetPathAsync(metadata.ProjectPath, context.Configuration, cancellationToken).ConfigureAwait(false);
        if (!File.Exists(targetPath))
            throw new DistributedApplicationException($"'{targetPath}' does not exist: build first (dotnet build), or run the AppHost with dotnet run.");

        var environment = await context.Environment.GetEnvironmentValuesAsync(project, cancellationToken).ConfigureAwait(false);
        var args = await context.Environment.GetArgumentValuesAsync(project, cancellationToken).ConfigureAwait(false);
        var spec = new ProcessSpec(project.Name, DotnetHost(), [targetPath, .. args])
        {
            WorkingDirectory = Path.GetDirectoryName(metadata.ProjectPath),
            Environment = environment,
            RemoveEnvironment = ResourceEnvironment.NamesNotInherited(),
            OnOutput = LogTo(context, project),
            NewSession = true,
        };
        return ManagedProcess.Start(spec);
    }

    /// <summary>A pinned port in use (another AppHost on 8402?) is a clear start failure, not a crash of the service.</summary>
    static void EnsurePortIsFree(EndpointAnnotation endpoint)
    {
        if (endpoint.Port is null || endpoint.AllocatedEndpoint is not { } allocated || allocated.Port != endpoint.Port) return;
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, allocated.Port);
            listener.Start();
        }
        catch (SocketException e)
        {
            throw new DistributedApplicationException($"Port {allocated.Port} of endpoint '{endpoint.Name}' is in use (is another AppHost running?): {e.Message}");
        }
    }

    /// <summary>The <c>dotnet</c> muxer that runs this AppHost (set by the CLI), else the one on PATH.</summary>
    internal static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath)) return hostPath;
        if (Environment.ProcessPath is { } processPath && Path.GetFileNameWithoutExtension(processPath) == "dotnet") return processPath;
        return ExecutableLocator.TryFind("dotnet") ?? "dotnet";
    }

    /// <summary>Asks MSBuild where the project's assembly is (for <c>AddProject(name, path)</c> without generated metadata).</summary>
    static async Task<string> QueryTargetPathAsync(string projectPath, string? configuration, CancellationToken cancellationToken)
    {
        var output = new List<string>();
        var args = new List<string> { "msbuild", projectPath, "-getProperty:TargetPath", "-nologo" };
        if (configuration is not null) args.Add($"-p:Configuration={configuration}");
        var process = ManagedProcess.Start(new ProcessSpec("msbuild", DotnetHost(), args) { OnOutput = (line, _) => { lock (output) output.Add(line); } });
        var exitCode = await process.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        var path = output.LastOrDefault(l => l.Trim().Length > 0)?.Trim();
        if (exitCode != 0 || string.IsNullOrEmpty(path))
            throw new DistributedApplicationException($"Could not get the TargetPath of {projectPath}: {string.Join(Environment.NewLine, output)}");
        return path;
    }

    /// <summary>Debug or Release: the configuration the AppHost itself was built with.</summary>
    internal static string? ConfigurationOf(Assembly? assembly) => assembly?.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration;
}
