using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;

namespace Sessions.Hosting.Publishing;

/// <summary>
/// <c>--publisher manifest --output-path aspire-manifest.json</c>: writes Aspire's deployment manifest
/// (project.v0, container.v0, value.v0, parameter.v0, values as <c>{resource.property}</c> expressions)
/// and stops the application without starting anything.
/// </summary>
internal sealed class ManifestPublisher(
    DistributedApplicationModel model,
    ResourceEnvironment environment,
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    ILogger<DistributedApplication> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var publisher = configuration["Publishing:Publisher"];
        if (publisher != "manifest")
            throw new DistributedApplicationException($"Unknown publisher '{publisher}': only 'manifest' is available.");

        var outputPath = Path.GetFullPath(configuration["Publishing:OutputPath"] ?? "aspire-manifest.json");
        if (Directory.Exists(outputPath)) outputPath = Path.Combine(outputPath, "aspire-manifest.json");
        var manifest = await WriteManifestAsync(model, environment, Path.GetDirectoryName(outputPath)!, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(outputPath)!);
        await File.WriteAllTextAsync(outputPath, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Published manifest to: {Path}", outputPath);
        lifetime.StopApplication();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The manifest as JSON; paths relative to <paramref name="manifestDirectory"/>.</summary>
    public static async Task<JsonObject> WriteManifestAsync(DistributedApplicationModel model, ResourceEnvironment environment, string manifestDirectory, CancellationToken cancellationToken)
    {
        var resources = new JsonObject();
        foreach (var resource in model.Resources)
        {
            resources[resource.Name] = resource switch
            {
                ParameterResource parameter => Parameter(parameter),
                ProjectResource project => await ProjectAsync(project, environment, manifestDirectory, cancellationToken).ConfigureAwait(false),
                ContainerResource container => await ContainerAsync(container, environment, cancellationToken).ConfigureAwait(false),
                IResourceWithConnectionString value => new JsonObject
                {
                    ["type"] = "value.v0",
                    ["connectionString"] = value.ConnectionStringExpression.ValueExpression,
                },
                _ => throw new DistributedApplicationException($"Resource '{resource.Name}' ({resource.GetType().Name}) cannot be written to the manifest."),
            };
        }
        return new JsonObject
        {
            ["$schema"] = "https://json.schemastore.org/aspire-8.0.json",
            ["resources"] = resources,
        };
    }

    static JsonObject Parameter(ParameterResource parameter)
    {
        var input = new JsonObject { ["type"] = "string" };
        if (parameter.Secret) input["secret"] = true;
        parameter.Default?.WriteToManifest(input);
        return new JsonObject
        {
            ["type"] = "parameter.v0",
            ["value"] = $"{{{parameter.Name}.inputs.value}}",
            ["inputs"] = new JsonObject { ["value"] = input },
        };
    }

    static async Task<JsonObject> ProjectAsync(ProjectResource project, ResourceEnvironment environment, string manifestDirectory, CancellationToken cancellationToken)
    {
        var json = new JsonObject
        {
            ["type"] = "project.v0",
            ["path"] = Path.GetRelativePath(manifestDirectory, project.Metadata.ProjectPath).Replace('\\', '/'),
        };
        var args = await environment.GetArgumentValuesAsync(project, cancellationToken).ConfigureAwait(false);
        if (args.Count > 0) json["args"] = new JsonArray([.. args.Select(a => JsonValue.Create(a))]);
        json["env"] = await EnvironmentAsync(project, environment, cancellationToken).ConfigureAwait(false);
        json["bindings"] = Bindings(project, includeTargetPort: false);
        return json;
    }

    static async Task<JsonObject> ContainerAsync(ContainerResource container, ResourceEnvironment environment, CancellationToken cancellationToken)
    {
        var json = new JsonObject { ["type"] = "container.v0" };
        if (container is IResourceWithConnectionString withConnectionString)
            json["connectionString"] = withConnectionString.ConnectionStringExpression.ValueExpression;
        if (container.TryGetLastAnnotation<ContainerImageAnnotation>(out var image))
            json["image"] = image.FullName;
        if (container.TryGetLastAnnotation<ContainerEntrypointAnnotation>(out var entrypoint))
        {
            json["entrypoint"] = entrypoint.Entrypoint;
            json["args"] = new JsonArray([.. entrypoint.Args.Select(a => JsonValue.Create(a))]);
        }
        var volumes = container.OfAnnotation<DataVolumeAnnotation>().ToArray();
        if (volumes.Length > 0)
            json["volumes"] = new JsonArray([.. volumes.Select(v => new JsonObject { ["name"] = v.Name, ["target"] = v.Target, ["readOnly"] = false })]);
        var env = await EnvironmentAsync(container, environment, cancellationToken).ConfigureAwait(false);
        if (env.Count > 0) json["env"] = env;
        json["bindings"] = Bindings(container, includeTargetPort: true);
        return json;
    }

    static async Task<JsonObject> EnvironmentAsync(IResource resource, ResourceEnvironment environment, CancellationToken cancellationToken)
    {
        var env = new JsonObject();
        foreach (var (name, value) in await environment.GetEnvironmentValuesAsync(resource, cancellationToken).ConfigureAwait(false))
            env[name] = value;
        return env;
    }

    static JsonObject Bindings(IResource resource, bool includeTargetPort)
    {
        var bindings = new JsonObject();
        foreach (var endpoint in resource.GetEndpointAnnotations())
        {
            var binding = new JsonObject
            {
                ["scheme"] = endpoint.UriScheme,
                ["protocol"] = "tcp",
                ["transport"] = endpoint.Transport,
            };
            if (endpoint.Port is { } port) binding["port"] = port;
            if (includeTargetPort && endpoint.TargetPort is { } targetPort) binding["targetPort"] = targetPort;
            if (endpoint.IsExternal) binding["external"] = true;
            bindings[endpoint.Name] = binding;
        }
        return bindings;
    }
}
