using System.Text.Json;

namespace Sessions.Hosting.ApplicationModel;

/// <summary>
/// Describes a .NET project, as the <c>Projects.*</c> classes generated for the AppHost's project references
/// (see Sessions.Hosting.AppHost.targets).
/// </summary>
public interface IProjectMetadata : IResourceAnnotation
{
    /// <summary>Absolute path of the .csproj.</summary>
    string ProjectPath { get; }

    /// <summary>The built assembly, when known at build time; otherwise MSBuild is asked at start.</summary>
    string? TargetPath => null;
}

/// <summary>Metadata for <c>AddProject(name, path)</c>.</summary>
public sealed class ProjectMetadata(string projectPath) : IProjectMetadata
{
    public string ProjectPath { get; } = projectPath;
}

public class ProjectResource(string name) : Resource(name),
    IResourceWithEnvironment, IResourceWithArgs, IResourceWithServiceDiscovery, IResourceWithWaitSupport
{
    public IProjectMetadata Metadata => this.TryGetLastAnnotation<IProjectMetadata>(out var metadata)
        ? metadata
        : throw new InvalidOperationException($"Project resource '{Name}' has no project metadata.");

    public EndpointReference GetEndpoint(string endpointName) => new(this, endpointName);
}

/// <summary>The launch profile a project starts with (its environment and name), as Aspire applies it.</summary>
public sealed class LaunchProfileAnnotation(string name, IReadOnlyDictionary<string, string> environmentVariables, IReadOnlyList<Uri> applicationUrls) : IResourceAnnotation
{
    public string Name { get; } = name;
    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = environmentVariables;
    public IReadOnlyList<Uri> ApplicationUrls { get; } = applicationUrls;

    /// <summary>
    /// Reads <c>Properties/launchSettings.json</c>: the named profile, or the first with
    /// <c>"commandName": "Project"</c>. Null when there is none.
    /// </summary>
    public static LaunchProfileAnnotation? Read(string projectPath, string? profileName)
    {
        var file = Path.Combine(Path.GetDirectoryName(projectPath)!, "Properties", "launchSettings.json");
        if (!File.Exists(file)) return null;

        using var document = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        });
        if (!document.RootElement.TryGetProperty("profiles", out var profiles)) return null;

        foreach (var profile in profiles.EnumerateObject())
        {
            var isProject = profile.Value.TryGetProperty("commandName", out var command) && command.GetString() == "Project";
            if (profileName is not null ? profile.Name != profileName : !isProject) continue;

            var environment = new Dictionary<string, string>();
            if (profile.Value.TryGetProperty("environmentVariables", out var variables))
                foreach (var variable in variables.EnumerateObject())
                    environment[variable.Name] = variable.Value.GetString() ?? "";

            var urls = profile.Value.TryGetProperty("applicationUrl", out var applicationUrl)
                ? (applicationUrl.GetString() ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(u => new Uri(u)).ToArray()
                : [];
            return new LaunchProfileAnnotation(profile.Name, environment, urls);
        }

        if (profileName is not null)
            throw new DistributedApplicationException($"Launch profile '{profileName}' was not found in {file}.");
        return null;
    }
}
