using System.Text;
using System.Text.Json.Nodes;

namespace Sessions.Deploy;

public enum ResourceKind { Project, Container, Parameter, Value, AnnotatedString }

public sealed record Binding(string Name, string Scheme, int? Port, int? TargetPort, bool External);

public sealed record Volume(string Name, string Target, bool ReadOnly);

public sealed record Resource(
    string Name,
    ResourceKind Kind,
    string? Image,
    string? Entrypoint,
    IReadOnlyList<string> Args,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    IReadOnlyList<Binding> Bindings,
    IReadOnlyList<Volume> Volumes,
    string? ConnectionString,
    bool Secret,
    string? Value = null)
{
    public Binding Binding(string name) =>
        Bindings.FirstOrDefault(b => b.Name == name) ?? throw new ManifestException($"{Name} has no binding '{name}'");
}

/// <summary>What a deployment target makes of the manifest's expressions (<c>{redis.bindings.tcp.port}</c>, ...).</summary>
public interface IExpressionTarget
{
    string Literal(string text);
    string Host(Resource resource, Binding binding);
    /// <summary>The binding's port (<paramref name="target"/>: the port the process listens on, else the one clients use).</summary>
    string Port(Resource resource, Binding binding, bool target);
    string Parameter(Resource parameter);
}

public sealed class ManifestException(string message) : Exception(message);

/// <summary>
/// Aspire's deployment manifest (<c>--publisher manifest</c>): project.v0, container.v0, parameter.v0 and value.v0 resources
/// whose strings hold <c>{resource.property}</c> expressions. Anything else is an error, so a model the generator does not
/// understand never becomes a silently incomplete deployment.
/// </summary>
public sealed partial class AppManifest(IReadOnlyList<Resource> resources)
{
    public IReadOnlyList<Resource> Resources { get; } = resources;

    public IEnumerable<Resource> OfKind(ResourceKind kind) => Resources.Where(r => r.Kind == kind);

    public Resource this[string name] =>
        Resources.FirstOrDefault(r => r.Name == name) ?? throw new ManifestException($"unknown resource '{name}'");

    public static AppManifest Parse(string json)
    {
        var root = JsonNode.Parse(json)?["resources"]?.AsObject() ?? throw new ManifestException("no \"resources\" object");
        return new AppManifest([.. root.Select(pair => ParseResource(pair.Key, pair.Value!.AsObject()))]);
    }

    static Resource ParseResource(string name, JsonObject json)
    {
        var type = (string?)json["type"];
        var kind = type switch
        {
            "project.v0" or "project.v1" => ResourceKind.Project,
            "container.v0" or "container.v1" => ResourceKind.Container,
            "parameter.v0" => ResourceKind.Parameter,
            "value.v0" => ResourceKind.Value,
            // A parameter's value through a filter (Aspire 13: "uri" for the *-uri-encoded passwords in URIs).
            "annotated.string" when (string?)json["filter"] == "uri" => ResourceKind.AnnotatedString,
            _ => throw new ManifestException($"{name}: resource type '{type}' is not supported"),
        };
        var env = json["env"]?.AsObject().Select(p => new KeyValuePair<string, string>(p.Key, (string)p.Value!)).ToList() ?? [];
        var bindings = json["bindings"]?.AsObject().Select(p => new Binding(p.Key, (string?)p.Value!["scheme"] ?? "tcp",
            (int?)p.Value["port"], (int?)p.Value["targetPort"], (bool?)p.Value["external"] ?? false)).ToList() ?? [];
        var volumes = json["volumes"]?.AsArray().Select(v => new Volume(StableVolumeName((string)v!["name"]!), (string)v["target"]!,
            (bool?)v["readOnly"] ?? false)).ToList() ?? [];
        var args = json["args"]?.AsArray().Select(a => (string)a!).ToList() ?? [];
        return new Resource(name, kind, (string?)json["image"], (string?)json["entrypoint"], args, env, bindings, volumes,
            (string?)json["connectionString"], (bool?)json["inputs"]?["value"]?["secret"] ?? false,
            kind == ResourceKind.AnnotatedString ? (string?)json["value"] : null);
    }

    /// <summary>
    /// Aspire names volumes <c>{apphost}-{hash of the AppHost's path}-{resource}-data</c>: without that prefix, so the generated
    /// files are the same in every clone.
    /// </summary>
    static string StableVolumeName(string name) => AppHostVolumePrefix().Replace(name, "");

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9.]+-[0-9a-f]{10}-")]
    private static partial System.Text.RegularExpressions.Regex AppHostVolumePrefix();

    /// <summary>
    /// The model without the named bindings (e.g. https, when TLS ends in front of the deployment): the bindings go, and so
    /// does every environment variable that names one of them (<c>services__x__https__0</c>).
    /// </summary>
    public AppManifest WithoutBindings(IReadOnlyCollection<string> names)
    {
        bool NamesOne(string template) => Expressions(template)
            .Select(e => template[(e.Start + 1)..e.End].Split('.'))
            .Any(parts => parts is [_, "bindings", var b, ..] && names.Contains(b));
        return new AppManifest([.. Resources.Select(r => r with
        {
            Bindings = [.. r.Bindings.Where(b => !names.Contains(b.Name))],
            Env = [.. r.Env.Where(e => !NamesOne(e.Value))],
        })]);
    }

    /// <summary>The template with every expression replaced by <paramref name="target"/>'s value (connection strings recursively).</summary>
    public string Expand(string template, IExpressionTarget target)
    {
        var result = new StringBuilder();
        var position = 0;
        foreach (var (start, end) in Expressions(template))
        {
            result.Append(target.Literal(template[position..start]));
            result.Append(Evaluate(template[(start + 1)..end], target));
            position = end + 1;
        }
        result.Append(target.Literal(template[position..]));
        return result.ToString();
    }

    /// <summary>Every resource the template names, and those its connection strings and annotated strings name (parameters included).</summary>
    public IReadOnlySet<string> References(string template)
    {
        var found = new HashSet<string>();
        void Visit(string text)
        {
            foreach (var (start, end) in Expressions(text))
            {
                var parts = text[(start + 1)..end].Split('.');
                found.Add(parts[0]);
                var resource = this[parts[0]];
                if (parts is [_, "connectionString"] && resource.ConnectionString is { } connectionString) Visit(connectionString);
                if (parts is [_, "value"] && resource.Value is { } value) Visit(value);
            }
        }
        Visit(template);
        return found;
    }

    /// <summary>The databases of a server: value.v0 resources whose connection string is <c>{server.connectionString};Database=NAME</c>.</summary>
    public IReadOnlyList<string> Databases(Resource server)
    {
        var prefix = $"{{{server.Name}.connectionString}};Database=";
        return [.. OfKind(ResourceKind.Value)
            .Where(v => v.ConnectionString?.StartsWith(prefix, StringComparison.Ordinal) == true)
            .Select(v => v.ConnectionString![prefix.Length..])];
    }

    string Evaluate(string expression, IExpressionTarget target)
    {
        var parts = expression.Split('.');
        var resource = this[parts[0]];
        return parts[1..] switch
        {
            ["connectionString"] when resource.ConnectionString is { } cs => Expand(cs, target),
            ["value"] when resource.Kind == ResourceKind.Parameter => target.Parameter(resource),
            // The deployment generates URL-safe secrets (hex): the "uri" filter changes nothing, so it is the parameter itself.
            ["value"] when resource.Kind == ResourceKind.AnnotatedString => Expand(resource.Value ?? "", target),
            ["bindings", var b, "scheme"] => resource.Binding(b).Scheme,
            ["bindings", var b, "host"] => target.Host(resource, resource.Binding(b)),
            ["bindings", var b, "port"] => target.Port(resource, resource.Binding(b), target: false),
            ["bindings", var b, "targetPort"] => target.Port(resource, resource.Binding(b), target: true),
            ["bindings", var b, "url"] => $"{resource.Binding(b).Scheme}://{target.Host(resource, resource.Binding(b))}:{target.Port(resource, resource.Binding(b), target: false)}",
            _ => throw new ManifestException($"expression '{{{expression}}}' is not supported"),
        };
    }

    static IEnumerable<(int Start, int End)> Expressions(string template)
    {
        for (var start = template.IndexOf('{'); start >= 0; start = template.IndexOf('{', start + 1))
        {
            var end = template.IndexOf('}', start);
            if (end < 0) throw new ManifestException($"unclosed expression in '{template}'");
            yield return (start, end);
            start = end;
        }
    }
}
