namespace Sessions.Deploy;

/// <summary>
/// Kubernetes manifests, one file per resource plus the parameters' Secret and a kustomization.yaml:
/// projects as Deployments (readiness /health, liveness /alive, non-root, read-only root filesystem, resources) with a
/// ConfigMap of their literal settings and a Service; a project with an external binding gets several replicas and a
/// PodDisruptionBudget; servers (container resources) as StatefulSets with a volume claim per manifest volume.
/// Secrets reach containers as secretKeyRef variables, spliced into connection strings with Kubernetes' $(VAR) expansion.
/// </summary>
public sealed class KubernetesWriter(AppManifest manifest, DeploymentSettings settings)
{
    public const string ParametersSecret = "sessions-parameters";
    const int ProjectPort = 8080;

    public IReadOnlyDictionary<string, string> Write()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in manifest.Resources)
        {
            if (resource.Kind == ResourceKind.Project) files[$"{resource.Name}.yaml"] = Yaml.WriteDocuments(Project(resource), Names.GeneratedHeader);
            if (resource.Kind == ResourceKind.Container) files[$"{resource.Name}.yaml"] = Yaml.WriteDocuments(Server(resource), Names.GeneratedHeader);
        }
        files["parameters.yaml"] = Yaml.Write(Parameters(), Names.GeneratedHeader + "\n" +
            "Empty values: fill them at deploy time, never in git, e.g. kubectl create secret generic " + ParametersSecret + "\n" +
            "  " + string.Join(" ", manifest.OfKind(ResourceKind.Parameter).Select(p => $"--from-literal={p.Name}=$(openssl rand -hex 24)")));
        files["kustomization.yaml"] = Yaml.Write(new YamlMap
        {
            { "apiVersion", "kustomize.config.k8s.io/v1beta1" },
            { "kind", "Kustomization" },
            { "resources", files.Keys.Where(f => f != "kustomization.yaml").Cast<object>().ToList() },
        }, Names.GeneratedHeader);
        return files;
    }

    IEnumerable<object> Project(Resource resource)
    {
        var replicas = resource.Bindings.Any(b => b.External) ? settings.ExternalReplicas : 1;
        var (literals, variables) = Environment(resource);
        literals.Insert(0, new KeyValuePair<string, object?>("OTEL_SERVICE_NAME", resource.Name));
        foreach (var (name, value) in settings.Environment.Concat(settings.For(resource).Environment)) literals.Add(name, value);
        foreach (var name in settings.PassThrough) literals.Add(name, "");
        var container = new YamlMap
        {
            { "name", resource.Name },
            { "image", $"sessions/{resource.Name}:latest" },
            { "ports", new List<object> { new YamlMap { { "name", "http" }, { "containerPort", ProjectPort } } } },
            { "envFrom", new List<object> { new YamlMap { { "configMapRef", new YamlMap { { "name", $"{resource.Name}-env" } } } } } },
            { "env", variables.Count > 0 ? variables : null },
            { "readinessProbe", HttpProbe("/health", 5) },
            { "livenessProbe", HttpProbe("/alive", 10) },
            { "resources", Resources("100m", "256Mi", "512Mi") },
            { "securityContext", new YamlMap
                {
                    { "runAsNonRoot", true }, { "runAsUser", 1654 }, { "readOnlyRootFilesystem", true },
                    { "allowPrivilegeEscalation", false },
                } },
            { "volumeMounts", new List<object> { new YamlMap { { "name", "tmp" }, { "mountPath", "/tmp" } } } },
        };
        var pod = new YamlMap
        {
            { "containers", new List<object> { container } },
            { "volumes", new List<object> { new YamlMap { { "name", "tmp" }, { "emptyDir", new YamlMap() } } } },
        };
        yield return ConfigMap($"{resource.Name}-env", literals);
        yield return Workload("Deployment", resource, replicas, pod, null);
        yield return Service(resource, resource.Bindings.Select(b => (b.Name, b.Port ?? ProjectPort, ProjectPort)),
            external: resource.Bindings.Any(b => b.External));
        if (replicas > 1)
            yield return new YamlMap
            {
                { "apiVersion", "policy/v1" }, { "kind", "PodDisruptionBudget" }, { "metadata", Metadata(resource.Name) },
                { "spec", new YamlMap { { "minAvailable", replicas - 1 }, { "selector", Selector(resource) } } },
            };
    }

    IEnumerable<object> Server(Resource resource)
    {
        var (literals, variables) = Environment(resource);
        var container = new YamlMap
        {
            { "name", resource.Name },
            { "image", resource.Image },
            { "command", resource.Entrypoint is { } e ? new List<object> { e } : null },
            { "args", resource.Args.Count > 0 ? resource.Args.Select(a => (object)manifest.Expand(a, new ClusterNetwork())).ToList() : null },
            { "ports", resource.Bindings.Select(b => (object)new YamlMap { { "name", b.Name }, { "containerPort", TargetPort(resource, b) } }).ToList() },
            { "envFrom", literals.Count > 0 ? new List<object> { new YamlMap { { "configMapRef", new YamlMap { { "name", $"{resource.Name}-env" } } } } } : null },
            { "env", variables.Count > 0 ? variables : null },
            { "readinessProbe", TcpProbe(resource) },
            { "livenessProbe", TcpProbe(resource) },
            { "resources", Resources("100m", "256Mi", "1Gi") },
        };
        var databases = manifest.Databases(resource);
        List<object> mounts = [.. resource.Volumes.Select(v => (object)new YamlMap { { "name", v.Name }, { "mountPath", v.Target } })];
        if (databases.Count > 0) mounts.Add(new YamlMap { { "name", "init" }, { "mountPath", "/docker-entrypoint-initdb.d" }, { "readOnly", true } });
        container.Add("volumeMounts", mounts.Count > 0 ? mounts : null);
        var pod = new YamlMap { { "containers", new List<object> { container } } };
        if (databases.Count > 0)
            pod.Add("volumes", new List<object> { new YamlMap { { "name", "init" }, { "configMap", new YamlMap { { "name", $"{resource.Name}-init" } } } } });
        var claims = resource.Volumes.Select(v => (object)new YamlMap
        {
            { "metadata", new YamlMap { { "name", v.Name } } },
            { "spec", new YamlMap
                {
                    { "accessModes", new List<object> { "ReadWriteOnce" } },
                    { "resources", new YamlMap { { "requests", new YamlMap { { "storage", "1Gi" } } } } },
                } },
        }).ToList();
        if (literals.Count > 0) yield return ConfigMap($"{resource.Name}-env", literals);
        if (databases.Count > 0) yield return ConfigMap($"{resource.Name}-init", new YamlMap { { "create-databases.sql", CreateDatabasesSql(databases) } });
        yield return Workload("StatefulSet", resource, 1, pod, claims);
        yield return Service(resource, resource.Bindings.Select(b => (b.Name, TargetPort(resource, b), TargetPort(resource, b))), external: false);
    }

    public static string CreateDatabasesSql(IReadOnlyList<string> databases) =>
        "-- One database per postgres.AddDatabase(...) of the AppHost; run once, on an empty data volume.\n" +
        string.Concat(databases.Select(d => $"CREATE DATABASE \"{d}\";\n"));

    /// <summary>Literal variables (for the ConfigMap) and the rest: secrets by reference, then values that splice them in.</summary>
    (YamlMap Literals, List<object> Variables) Environment(Resource resource)
    {
        var literals = new YamlMap();
        var secrets = new List<object>();
        var spliced = new List<object>();
        var target = new ClusterNetwork();
        foreach (var (name, value) in resource.Env)
        {
            var parameters = manifest.References(value).Select(n => manifest[n]).Where(r => r.Kind == ResourceKind.Parameter).ToList();
            if (parameters.Count == 0) { literals.Add(name, manifest.Expand(value, target)); continue; }
            if (value == $"{{{parameters[0].Name}.value}}") { secrets.Add(SecretVariable(name, parameters[0])); continue; }
            foreach (var parameter in parameters)
                if (!secrets.OfType<YamlMap>().Any(s => (string?)s[0].Value == SecretVariableName(parameter)))
                    secrets.Add(SecretVariable(SecretVariableName(parameter), parameter));
            spliced.Add(new YamlMap { { "name", name }, { "value", manifest.Expand(value, target) } });
        }
        return (literals, [.. secrets, .. spliced]);
    }

    static string SecretVariableName(Resource parameter) => $"SECRET_{Names.Variable(parameter.Name)}";

    static YamlMap SecretVariable(string name, Resource parameter) => new()
    {
        { "name", name },
        { "valueFrom", new YamlMap { { "secretKeyRef", new YamlMap { { "name", ParametersSecret }, { "key", parameter.Name } } } } },
    };

    YamlMap Parameters() => new()
    {
        { "apiVersion", "v1" }, { "kind", "Secret" }, { "metadata", new YamlMap { { "name", ParametersSecret } } },
        { "type", "Opaque" },
        { "stringData", Map(manifest.OfKind(ResourceKind.Parameter).Select(p => new KeyValuePair<string, object?>(p.Name, ""))) },
    };

    static YamlMap Map(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var map = new YamlMap();
        map.AddRange(pairs);
        return map;
    }

    static YamlMap Workload(string kind, Resource resource, int replicas, YamlMap pod, List<object>? claims)
    {
        var spec = new YamlMap { { "replicas", replicas } };
        if (kind == "StatefulSet") spec.Add("serviceName", resource.Name);
        spec.Add("selector", Selector(resource));
        spec.Add("template", new YamlMap { { "metadata", new YamlMap { { "labels", Labels(resource.Name) } } }, { "spec", pod } });
        if (claims is { Count: > 0 }) spec.Add("volumeClaimTemplates", claims);
        return new YamlMap { { "apiVersion", "apps/v1" }, { "kind", kind }, { "metadata", Metadata(resource.Name) }, { "spec", spec } };
    }

    static YamlMap Service(Resource resource, IEnumerable<(string Name, int Port, int TargetPort)> ports, bool external) => new()
    {
        { "apiVersion", "v1" }, { "kind", "Service" }, { "metadata", Metadata(resource.Name) },
        { "spec", new YamlMap
            {
                { "type", external ? "LoadBalancer" : null },
                { "selector", Labels(resource.Name) },
                { "ports", ports.Select(p => (object)new YamlMap { { "name", p.Name }, { "port", p.Port }, { "targetPort", p.TargetPort } }).ToList() },
            } },
    };

    static YamlMap ConfigMap(string name, YamlMap data) => new()
    {
        { "apiVersion", "v1" }, { "kind", "ConfigMap" }, { "metadata", new YamlMap { { "name", name } } }, { "data", data },
    };

    static YamlMap Metadata(string name) => new() { { "name", name }, { "labels", Labels(name) } };
    static YamlMap Labels(string name) => new() { { "app.kubernetes.io/name", name }, { "app.kubernetes.io/part-of", "sessions" } };
    static YamlMap Selector(Resource resource) => new() { { "matchLabels", Labels(resource.Name) } };

    static YamlMap HttpProbe(string path, int period) => new()
    {
        { "httpGet", new YamlMap { { "path", path }, { "port", "http" } } }, { "periodSeconds", period }, { "failureThreshold", 3 },
    };

    static YamlMap TcpProbe(Resource resource) => new()
    {
        { "tcpSocket", new YamlMap { { "port", resource.Bindings[0].Name } } }, { "periodSeconds", 5 },
    };

    static YamlMap Resources(string cpu, string memory, string memoryLimit) => new()
    {
        { "requests", new YamlMap { { "cpu", cpu }, { "memory", memory } } },
        { "limits", new YamlMap { { "memory", memoryLimit } } },
    };

    static int TargetPort(Resource resource, Binding binding) =>
        binding.TargetPort ?? binding.Port ?? throw new ManifestException($"{resource.Name}: binding {binding.Name} has no port");

    /// <summary>Cluster DNS: a resource is reached at its Service name; projects listen on 8080 (HTTP_PORTS).</summary>
    sealed class ClusterNetwork : IExpressionTarget
    {
        public string Literal(string text) => text.Replace("$(", "$$(");
        public string Host(Resource resource, Binding binding) => resource.Name;
        public string Port(Resource resource, Binding binding, bool target) => resource.Kind == ResourceKind.Project
            ? (target ? ProjectPort : binding.Port ?? ProjectPort).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : TargetPort(resource, binding).ToString(System.Globalization.CultureInfo.InvariantCulture);
        public string Parameter(Resource parameter) => $"$({SecretVariableName(parameter)})";
    }
}
