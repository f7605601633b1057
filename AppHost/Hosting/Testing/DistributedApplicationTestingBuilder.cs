using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sessions.Hosting.ApplicationModel;

namespace Sessions.Hosting.Testing;

/// <summary>A builder holding the AppHost's model, to be built and started by a test.</summary>
public interface IDistributedApplicationTestingBuilder : IDistributedApplicationBuilder, IAsyncDisposable
{
    /// <summary>The temporary state folder (data volumes, parameters); deleted on dispose.</summary>
    string StateDirectory { get; }

    Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The testing entry point, in the spirit of Aspire.Hosting.Testing: runs the AppHost's Program.cs up to
/// <c>Build()</c> and returns its builder, set up to run headless with a temporary state folder, free ports
/// for every endpoint (the gate included), throw-away Postgres durability, and waits that fail as soon as a
/// resource fails.
/// <code>
/// await using var builder = await DistributedApplicationTestingBuilder.CreateAsync&lt;Projects.AppHost&gt;();
/// await using var app = await builder.BuildAsync();
/// await app.StartAsync();
/// await app.WaitForResourceHealthyAsync("paymentgate", TimeSpan.FromSeconds(60));
/// using var http = app.CreateHttpClient("paymentgate");
/// </code>
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    static readonly TimeSpan EntryPointTimeout = TimeSpan.FromSeconds(30);

    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(CancellationToken cancellationToken = default)
        where TEntryPoint : class
        => CreateAsync<TEntryPoint>([], cancellationToken);

    /// <param name="args">More AppHost arguments, e.g. <c>--AppHost:StopTimeout=00:00:05</c>.</param>
    public static async Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(string[] args, CancellationToken cancellationToken = default)
        where TEntryPoint : class
    {
        var assembly = AppHostAssemblyOf(typeof(TEntryPoint));
        var root = Environment.GetEnvironmentVariable("SESSIONS_TEST_ROOT") ?? Path.GetTempPath();
        var stateDirectory = Path.Combine(root, $"apphost-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        string[] testArgs =
        [
            $"--AppHost:StateDirectory={stateDirectory}",
            "--AppHost:RandomizePorts=true",
            "--AppHost:Headless=true",
            "--AppHost:EphemeralState=true",
            .. args,
        ];
        var interceptor = new EntryPointInterceptor(testArgs, assembly);
        var builder = await interceptor.RunEntryPointAsync(EntryPointTimeout, cancellationToken).ConfigureAwait(false);
        return new TestingBuilder(builder, stateDirectory);
    }

    /// <summary>A generated <c>Projects.AppHost</c> names the assembly; any other type is taken from the AppHost assembly itself.</summary>
    static Assembly AppHostAssemblyOf(Type entryPoint)
    {
        if (!typeof(IProjectMetadata).IsAssignableFrom(entryPoint)) return entryPoint.Assembly;
        var metadata = (IProjectMetadata)Activator.CreateInstance(entryPoint)!;
        return Assembly.Load(Path.GetFileNameWithoutExtension(metadata.TargetPath ?? metadata.ProjectPath));
    }

    sealed class TestingBuilder(DistributedApplicationBuilder inner, string stateDirectory) : IDistributedApplicationTestingBuilder
    {
        public string StateDirectory { get; } = stateDirectory;
        public ConfigurationManager Configuration => inner.Configuration;
        public IHostEnvironment Environment => inner.Environment;
        public IServiceCollection Services => inner.Services;
        public DistributedApplicationExecutionContext ExecutionContext => inner.ExecutionContext;
        public IList<IResource> Resources => inner.Resources;
        public string AppHostDirectory => inner.AppHostDirectory;
        public Assembly? AppHostAssembly => inner.AppHostAssembly;

        public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource => inner.AddResource(resource);
        public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => inner.CreateResourceBuilder(resource);
        public DistributedApplication Build() => inner.BuildCore();
        public Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default) => Task.FromResult(inner.BuildCore());

        public ValueTask DisposeAsync()
        {
            try
            {
                if (Directory.Exists(StateDirectory)) Directory.Delete(StateDirectory, recursive: true);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return ValueTask.CompletedTask;
        }
    }
}
