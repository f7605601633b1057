using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Sessions.Hosting.ApplicationModel;

namespace Sessions.Hosting.Orchestration;

/// <summary>
/// Computes the environment of a resource exactly as an Aspire AppHost would: project defaults (launch
/// profile, OTEL_*, console settings, ASPNETCORE_URLS), then the resource's environment callbacks
/// (WithReference, WithEnvironment). Run mode resolves values; publish mode writes manifest expressions.
/// </summary>
public sealed class ResourceEnvironment
{
    // Set per resource by Aspire, so the AppHost's own values must not leak into children.
    static readonly string[] NotInherited =
    [
        "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "DOTNET_LAUNCH_PROFILE",
        "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "HTTP_PORTS", "HTTPS_PORTS",
    ];
    static readonly string[] NotInheritedPrefixes =
    [
        "OTEL_", "DOTNET_DASHBOARD_", "ASPIRE_DASHBOARD_", $"{AppHostOptions.SectionName}__", "Parameters__", "Publishing__",
    ];

    readonly DistributedApplicationExecutionContext _executionContext;
    readonly bool _isDevelopment;
    readonly (string Endpoint, string Protocol, string? Headers)? _otlp;
    readonly Dictionary<string, string> _instanceIds = [];

    public ResourceEnvironment(DistributedApplicationExecutionContext executionContext, IHostEnvironment appHostEnvironment, IConfiguration configuration)
    {
        _executionContext = executionContext;
        _isDevelopment = appHostEnvironment.IsDevelopment();
        _otlp = OtlpFrom(configuration);
    }

    /// <summary>The OTLP collector the services export to, if the AppHost was given one.</summary>
    public string? OtlpEndpoint => _otlp?.Endpoint;

    /// <summary>The unevaluated environment: values are strings or value providers.</summary>
    public async Task<Dictionary<string, object>> GetEnvironmentAsync(IResource resource, CancellationToken cancellationToken = default)
    {
        var environment = new Dictionary<string, object>(StringComparer.Ordinal);
        if (resource is ProjectResource project)
            AddProjectDefaults(project, environment);
        var context = new EnvironmentCallbackContext(_executionContext, resource, environment, cancellationToken);
        foreach (var callback in resource.OfAnnotation<EnvironmentCallbackAnnotation>())
            await callback.Callback(context).ConfigureAwait(false);
        return environment;
    }

    /// <summary>The environment as the process receives it (run mode) or as the manifest writes it (publish mode).</summary>
    public async Task<Dictionary<string, string>> GetEnvironmentValuesAsync(IResource resource, CancellationToken cancellationToken = default)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in await GetEnvironmentAsync(resource, cancellationToken).ConfigureAwait(false))
            values[name] = await EvaluateAsync(value, cancellationToken).ConfigureAwait(false);
        return values;
    }

    public async Task<List<string>> GetArgumentValuesAsync(IResource resource, CancellationToken cancellationToken = default)
    {
        var args = new List<object>();
        var context = new CommandLineArgsCallbackContext(args, _executionContext);
        foreach (var callback in resource.OfAnnotation<CommandLineArgsCallbackAnnotation>())
            await callback.Callback(context).ConfigureAwait(false);
        var values = new List<string>();
        foreach (var arg in args) values.Add(await EvaluateAsync(arg, cancellationToken).ConfigureAwait(false));
        return values;
    }

    public async Task<string> EvaluateAsync(object value, CancellationToken cancellationToken) => value switch
    {
        string text => text,
        IManifestExpressionProvider manifest when _executionContext.IsPublishMode => manifest.ValueExpression,
        IValueProvider provider => await provider.GetValueAsync(cancellationToken).ConfigureAwait(false) ?? "",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Names in the AppHost's environment (or the given names) that a child must not inherit.</summary>
    public static IReadOnlyList<string> NamesNotInherited(IEnumerable<string>? names = null)
        => (names ?? Environment.GetEnvironmentVariables().Keys.Cast<string>())
            .Where(name => NotInherited.Contains(name, StringComparer.OrdinalIgnoreCase)
                || NotInheritedPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            .ToArray();

    /// <summary>The 8 lowercase letters Aspire uses as <c>service.instance.id</c>, one per resource per run.</summary>
    public string InstanceId(IResource resource)
    {
        lock (_instanceIds)
        {
            if (!_instanceIds.TryGetValue(resource.Name, out var id))
                _instanceIds[resource.Name] = id = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 8);
            return id;
        }
    }

    void AddProjectDefaults(ProjectResource project, Dictionary<string, object> environment)
    {
        var httpEndpoints = project.GetEndpointAnnotations().Where(e => e.UriScheme is "http" or "https").ToArray();
        if (_executionContext.IsPublishMode)
        {
            environment["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true";
            if (httpEndpoints.Length > 0)
                environment["HTTP_PORTS"] = new ManifestOnlyValue(string.Join(';',
                    httpEndpoints.Select(e => new EndpointReference(project, e.Name).Property(EndpointProperty.TargetPort).ValueExpression)));
            return;
        }

        // The launch profile's variables come first, so everything below wins over them.
        if (project.TryGetLastAnnotation<LaunchProfileAnnotation>(out var profile))
        {
            foreach (var (name, value) in profile.EnvironmentVariables) environment[name] = value;
            environment["DOTNET_LAUNCH_PROFILE"] = profile.Name;
        }
        if (httpEndpoints.Length > 0)
            environment["ASPNETCORE_URLS"] = new EndpointUrls(project, httpEndpoints);
        foreach (var endpoint in project.GetEndpointAnnotations().Where(e => e.TargetPortEnvironmentVariable is not null))
            environment[endpoint.TargetPortEnvironmentVariable!] = new EndpointReference(project, endpoint.Name).Property(EndpointProperty.TargetPort);

        environment["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory";
        if (_otlp is { } otlp)
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Endpoint;
            environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = otlp.Protocol;
            if (otlp.Headers is not null) environment["OTEL_EXPORTER_OTLP_HEADERS"] = otlp.Headers;
        }
        environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={InstanceId(project)}";
        environment["OTEL_SERVICE_NAME"] = project.Name;
        if (_isDevelopment)
        {
            // Export quickly while developing, as Aspire does for a Development AppHost.
            environment["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
            environment["OTEL_TRACES_SAMPLER"] = "always_on";
        }
        environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "true";
        environment["LOGGING__CONSOLE__FORMATTERNAME"] = "simple";
    }

    // An explicit collector (OTEL_EXPORTER_OTLP_ENDPOINT), or the dashboard's OTLP endpoint as Aspire names it.
    static (string, string, string?)? OtlpFrom(IConfiguration configuration)
    {
        var headers = configuration["OTEL_EXPORTER_OTLP_HEADERS"];
        if (configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 } endpoint)
            return (endpoint, configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "grpc", headers);
        if ((configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] ?? configuration["DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"]) is { Length: > 0 } grpc)
            return (grpc, "grpc", headers);
        if ((configuration["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] ?? configuration["DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"]) is { Length: > 0 } http)
            return (http, "http/protobuf", headers);
        return null;
    }

    /// <summary>ASPNETCORE_URLS: every HTTP endpoint's allocated URL.</summary>
    sealed class EndpointUrls(ProjectResource project, EndpointAnnotation[] endpoints) : IValueProvider, IManifestExpressionProvider
    {
        public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
            => new(string.Join(';', endpoints.Select(e => new EndpointReference(project, e.Name).Url)));

        public string ValueExpression => string.Join(';', endpoints.Select(e => new EndpointReference(project, e.Name).ValueExpression));
    }

    sealed class ManifestOnlyValue(string expression) : IValueProvider, IManifestExpressionProvider
    {
        public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => new(expression);
        public string ValueExpression => expression;
    }
}
