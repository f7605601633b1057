using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Deploy;

/// <summary>
/// What a deployment adds to the app model (deploy/deployment.json): the production environment, settings the model leaves
/// to the deployment (the facilitator choice), host-network ports for compose, and how a server image is told to listen on
/// loopback and checked for health. Everything else comes from the manifest.
/// </summary>
public sealed class DeploymentSettings
{
    /// <summary>Literal environment of every project.</summary>
    public Dictionary<string, string> Environment { get; init; } = [];

    /// <summary>Variables every project gets from the deployer's environment when set (e.g. an OTLP collector).</summary>
    public List<string> PassThrough { get; init; } = [];

    public Dictionary<string, ResourceSettings> Resources { get; init; } = [];

    /// <summary>Bindings the deployment does not serve (https: TLS ends in front of it); variables naming them are left out.</summary>
    public List<string> OmitBindings { get; init; } = [];

    /// <summary>Replicas of a project with an external binding (the gate), with a disruption budget in Kubernetes.</summary>
    public int ExternalReplicas { get; init; } = 3;

    public ResourceSettings For(Resource resource) =>
        Resources.TryGetValue(resource.Name, out var settings) ? settings : new ResourceSettings();

    public static DeploymentSettings Parse(string json) =>
        JsonSerializer.Deserialize<DeploymentSettings>(json, Options) ?? throw new ManifestException("empty deployment settings");

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };
}

public sealed class ResourceSettings
{
    /// <summary>The loopback port on the host (compose runs with host networking); <c>{port}</c> in the strings below.</summary>
    public int? HostPort { get; init; }

    /// <summary>Literal environment added to this resource.</summary>
    public Dictionary<string, string> Environment { get; init; } = [];

    public ComposeSettings Compose { get; init; } = new();
}

public sealed class ComposeSettings
{
    /// <summary>Appended to the manifest's last argument (a <c>sh -c</c> command line), e.g. listen on loopback and the host port.</summary>
    public string? AppendToLastArg { get; init; }

    /// <summary>Replaces the image's command when the manifest gives no arguments.</summary>
    public List<string>? Command { get; init; }

    /// <summary>A shell command that exits 0 when the server is ready (compose healthcheck, CMD-SHELL).</summary>
    public string? Healthcheck { get; init; }

    public string? User { get; init; }
}
