using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;
using Sessions.Hosting.Publishing;
using Sessions.Hosting.Testing;

namespace Sessions.Hosting;

/// <summary>Builds the application model (Aspire's <c>IDistributedApplicationBuilder</c>).</summary>
public interface IDistributedApplicationBuilder
{
    ConfigurationManager Configuration { get; }
    IHostEnvironment Environment { get; }
    IServiceCollection Services { get; }
    DistributedApplicationExecutionContext ExecutionContext { get; }
    IList<IResource> Resources { get; }
    /// <summary>The AppHost project's folder: relative project paths and the default state folder start here.</summary>
    string AppHostDirectory { get; }
    Assembly? AppHostAssembly { get; }

    IResourceBuilder<T> AddResource<T>(T resource) where T : IResource;
    IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource;
    DistributedApplication Build();
}

public sealed class DistributedApplicationOptions
{
    public string[]? Args { get; set; }
    /// <summary>The assembly whose build metadata gives <see cref="IDistributedApplicationBuilder.AppHostDirectory"/>.</summary>
    public Assembly? AppHostAssembly { get; set; }
}

public sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    /// <summary>Written into the AppHost assembly by Sessions.Hosting.AppHost.targets.</summary>
    public const string AppHostDirectoryMetadataKey = "Sessions.Hosting.AppHostDirectory";

    readonly HostApplicationBuilder _host;
    readonly EntryPointInterceptor? _interceptor;
    readonly List<IResource> _resources = [];

    public DistributedApplicationBuilder(DistributedApplicationOptions options)
    {
        // A test that runs the AppHost's entry point (DistributedApplicationTestingBuilder) adds its settings
        // and takes the builder over when Program.cs calls Build().
        _interceptor = EntryPointInterceptor.Current;
        var args = AppHostArguments.Normalize([.. options.Args ?? [], .. _interceptor?.Args ?? []]);

        AppHostAssembly = _interceptor?.AppHostAssembly ?? options.AppHostAssembly ?? Assembly.GetEntryAssembly();
        AppHostDirectory = AppHostAssembly?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == AppHostDirectoryMetadataKey)?.Value ?? System.Environment.CurrentDirectory;

        _host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppHostDirectory,
            ApplicationName = AppHostAssembly?.GetName().Name,
            // The AppHost is a development tool: Development unless told otherwise (Aspire's template
            // sets it in the AppHost's launch profile). It decides the services' OTEL schedule variables.
            EnvironmentName = EnvironmentFrom(args) ?? Environments.Development,
        });
        Configuration.AddJsonFile(Path.Combine(AppHostDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(AppHostDirectory, $"appsettings.{_host.Environment.EnvironmentName}.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args);

        _host.Logging.AddConfiguration(Configuration.GetSection("Logging"));
        _host.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        _host.Logging.SetMinimumLevel(LogLevel.Information);
        _host.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);

        var publisher = Configuration["Publishing:Publisher"];
        ExecutionContext = string.IsNullOrEmpty(publisher)
            ? new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run)
            : new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish, publisher);
    }

    public ConfigurationManager Configuration => _host.Configuration;
    public IHostEnvironment Environment => _host.Environment;
    public IServiceCollection Services => _host.Services;
    public DistributedApplicationExecutionContext ExecutionContext { get; }
    public IList<IResource> Resources => _resources;
    public string AppHostDirectory { get; }
    public Assembly? AppHostAssembly { get; }

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        if (_resources.FirstOrDefault(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)) is { } existing)
            throw new DistributedApplicationException(
                $"Cannot add resource of type '{resource.GetType()}' with name '{resource.Name}' because resource of type '{existing.GetType()}' with that name already exists. Resource names are case-insensitive.");
        _resources.Add(resource);
        return CreateResourceBuilder(resource);
    }

    public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => new ResourceBuilder<T>(this, resource);

    public DistributedApplication Build()
    {
        if (_interceptor?.TryCapture(this) == true)
            throw new EntryPointInterceptedException();
        return BuildCore();
    }

    internal DistributedApplication BuildCore()
    {
        var model = new DistributedApplicationModel(_resources.ToArray());
        var options = AppHostOptions.From(Configuration);
        Services.AddSingleton(model);
        Services.AddSingleton(options);
        Services.AddSingleton(ExecutionContext);
        Services.AddSingleton(new StateFolder(options, AppHostDirectory));
        Services.AddSingleton(sp => new ResourceNotificationService(model,
            options.Headless ? WaitBehavior.StopOnResourceUnavailable : WaitBehavior.WaitOnResourceUnavailable));
        Services.AddSingleton<ResourceLoggerService>();
        Services.AddSingleton<ResourceEnvironment>();
        Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.StopTimeout + TimeSpan.FromSeconds(5));
        Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        if (ExecutionContext.IsPublishMode)
        {
            Services.AddHostedService<ManifestPublisher>();
        }
        else
        {
            Services.AddSingleton<ApplicationOrchestrator>();
            Services.AddHostedService(sp => sp.GetRequiredService<ApplicationOrchestrator>());
        }
        Services.AddSingleton(sp => new ResourceCommandService(model, sp.GetService<ApplicationOrchestrator>()));
        return new DistributedApplication(_host.Build());
    }

    static string? EnvironmentFrom(string[] args)
        => new ConfigurationBuilder().AddEnvironmentVariables("DOTNET_").AddCommandLine(args).Build()["environment"];
}
