namespace Sessions.Deploy;

public static class DeploymentFiles
{
    /// <summary>Every generated file, by path relative to the deploy folder.</summary>
    public static IReadOnlyDictionary<string, string> Generate(string manifestJson, string settingsJson)
    {
        var settings = DeploymentSettings.Parse(settingsJson);
        var manifest = AppManifest.Parse(manifestJson).WithoutBindings(settings.OmitBindings);
        var unknown = settings.Resources.Keys.Where(name => manifest.Resources.All(r => r.Name != name)).ToList();
        if (unknown.Count > 0) throw new ManifestException($"deployment.json names resources the app model does not have: {string.Join(", ", unknown)}");

        var files = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["compose.yaml"] = new ComposeWriter(manifest, settings).Write() };
        foreach (var server in manifest.OfKind(ResourceKind.Container).Where(s => manifest.Databases(s).Count > 0))
            files[$"{server.Name}-init/create-databases.sql"] = KubernetesWriter.CreateDatabasesSql(manifest.Databases(server));
        foreach (var (name, text) in new KubernetesWriter(manifest, settings).Write()) files[$"k8s/{name}"] = text;
        return files;
    }
}
